// Both collators author parachain blocks: reads each block's aura slot from its pre-runtime
// digest and maps it to the author (authorities[slot % count]), block by block, until both
// authorities have authored or the test's timeout ends it. Returns how many distinct
// authorities authored.
const AURA = "0x61757261"; // "aura"

async function authorOf(api, hash) {
	const header = await api.rpc.chain.getHeader(hash);
	const authorities = await (await api.at(hash)).query.aura.authorities();
	for (const log of header.digest.logs) {
		if (log.isPreRuntime && log.asPreRuntime[0].toHex() === AURA) {
			const slot = api.createType("u64", log.asPreRuntime[1]).toBigInt();
			return { number: header.number.toNumber(), author: authorities[Number(slot % BigInt(authorities.length))].toString(), count: authorities.length };
		}
	}
	throw new Error(`block ${hash} has no aura pre-runtime digest`);
}

async function run(nodeName, networkInfo) {
	const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
	const api = await zombie.connect(wsUri, userDefinedTypes);
	const authors = new Map();
	let next = 1;
	for (;;) {
		const best = (await api.rpc.chain.getHeader()).number.toNumber();
		for (; next <= best; next++) {
			const { number, author, count } = await authorOf(api, await api.rpc.chain.getBlockHash(next));
			authors.set(author, (authors.get(author) || 0) + 1);
			if (count !== 2) throw new Error(`block ${number}: ${count} aura authorities, expected the two collators`);
		}
		if (authors.size >= 2) break;
		await new Promise((resolve) => setTimeout(resolve, 6000));
	}
	console.log(`blocks 1..${next - 1} authored by: ${[...authors].map(([a, n]) => `${a} (${n})`).join(", ")}`);
	await api.disconnect();
	return authors.size;
}

module.exports = { run };
