// The image task of verified-task.sh had its verifiers drawn with the relay chain's BABE
// randomness, with no fallback: in the parachain block that assigned it (pallet-tasks draws in
// on_initialize, from the randomness that pallet-relay-randomness kept at the end of the parent
// block),
//  - the insecure fallback is off, so a draw is impossible without relay randomness;
//  - the randomness kept is the relay chain's own `Babe::AuthorVrfRandomness` of the relay block
//    it names, read from a relay validator at that block;
//  - that relay block is no newer than the relay parent of the assigning block.
const fs = require("fs");
const path = require("path");

function readTaskEnv(networkInfo, nodeName) {
	const file = path.join(networkInfo.tmpDir, nodeName, "replica-task.env");
	const env = Object.fromEntries(
		fs.readFileSync(file, "utf8").trim().split("\n").map((line) => line.split("=")),
	);
	return { task: Number(env.TASK), assignedAt: Number(env.ASSIGNED_AT) };
}

async function run(nodeName, networkInfo) {
	const { task, assignedAt } = readTaskEnv(networkInfo, nodeName);
	const para = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
	const relay = await zombie.connect(networkInfo.relay[0].wsUri);

	const blockHash = await para.rpc.chain.getBlockHash(assignedAt);
	const block = await para.at(blockHash);
	const events = await block.query.system.events();
	const assigned = events.find(
		({ event }) => para.events.tasks.TaskAssigned.is(event) && event.data.task.toNumber() === task,
	);
	if (!assigned) throw new Error(`parachain block ${assignedAt} has no TaskAssigned for task ${task}`);

	const header = await para.rpc.chain.getHeader(blockHash);
	const parent = await para.at(header.parentHash);
	for (const [at, state] of [[`#${assignedAt - 1}`, parent], [`#${assignedAt}`, block]]) {
		if ((await state.query.relayRandomness.insecureFallback()).isTrue) {
			throw new Error(`the insecure randomness fallback is on at parachain block ${at}`);
		}
	}
	const latest = await parent.query.relayRandomness.latest();
	if (latest.isNone) throw new Error(`no relay randomness at parachain block #${assignedAt - 1}`);
	const { value, relayBlock, since } = latest.unwrap();
	if (value.isEmpty || /^0x0+$/.test(value.toHex())) throw new Error("the kept relay randomness is zero");

	const relayHash = await relay.rpc.chain.getBlockHash(relayBlock);
	const babe = await (await relay.at(relayHash)).query.babe.authorVrfRandomness();
	if (babe.isNone) throw new Error(`relay block ${relayBlock} has no BABE randomness`);
	if (babe.unwrap().toHex() !== value.toHex()) {
		throw new Error(`kept ${value.toHex()} but relay block ${relayBlock}'s BABE randomness is ${babe.unwrap().toHex()}`);
	}

	const validationData = await block.query.parachainSystem.validationData();
	const relayParent = validationData.unwrap().relayParentNumber.toNumber();
	if (relayBlock.toNumber() > relayParent) {
		throw new Error(`relay block ${relayBlock} is newer than the assigning block's relay parent ${relayParent}`);
	}

	console.log(
		`task ${task}: verifiers drawn in parachain block #${assignedAt} with relay block ${relayBlock}'s ` +
			`BABE randomness ${value.toHex()} (kept since parachain block #${since}; relay parent ${relayParent})`,
	);
	await para.disconnect();
	await relay.disconnect();
	return relayBlock.toNumber();
}

module.exports = { run };
