#!/usr/bin/env node
// Replica's dapp client on polkadot.js (@polkadot/api 16.5.6), from the runtime's metadata as
// the node serves it: no type definitions or overrides are written here. It submits an image
// or text task, follows the task's events in finalized blocks to its verdict, and then
// downloads each verified image from a winner's results endpoint and checks its blake2-256
// against the digest the chain agreed on, or prints the verified text.
//
//   node clients/js/replica-task.mjs --node ws://127.0.0.1:9944 --key //Eve \
//     --model digits-sd --prompt "a photo of the digit 7" --seed 7 --steps 20 --out-dir out
//
// Exit status 0 once the result is verified; 1 with one line on stderr otherwise.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aEq, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: replica-task.mjs --key URI --model ID|NAME --prompt TEXT [options]
  --node URL            WebSocket RPC endpoint (default ws://127.0.0.1:9944, or REPLICA_NODE_URL)
  --key URI             the paying account's secret URI (//Eve on a dev chain, or REPLICA_KEY)
  --model ID|NAME       the model: its on-chain id or registered name
  --prompt TEXT         the prompt
  --seed N              image tasks: the seed (default: random)
  --steps N             image tasks: DDIM steps (default: 30, or the model's maximum if lower)
  --size N              image tasks: width and height (default: the model's largest, at most 512)
  --guidance X          image tasks: classifier-free guidance scale (default 7.5)
  --max-tokens N        text tasks: most tokens (default 64)
  --beams N             text tasks: beam search width (default: greedy)
  --verifiers N         how many workers run it (default: the chain's default)
  --out-dir DIR         where verified images are written (default .)
  --timeout-blocks N    give up after this many blocks without a verdict (default 600)`;

function fail(message) {
  console.error(`replica-task: ${message}`);
  process.exit(1);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        node: { type: 'string', default: process.env.REPLICA_NODE_URL ?? 'ws://127.0.0.1:9944' },
        key: { type: 'string', default: process.env.REPLICA_KEY },
        model: { type: 'string' },
        prompt: { type: 'string' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        size: { type: 'string' },
        guidance: { type: 'string', default: '7.5' },
        'max-tokens': { type: 'string', default: '64' },
        beams: { type: 'string' },
        verifiers: { type: 'string' },
        'out-dir': { type: 'string', default: '.' },
        'timeout-blocks': { type: 'string', default: '600' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  for (const required of ['key', 'model', 'prompt']) {
    if (!values[required]) fail(`--${required} is required\n${USAGE}`);
  }
  const count = (name, fallback) => {
    const text = values[name];
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) fail(`--${name} ${text}: expected a whole number`);
    return Number(text);
  };
  return {
    ...values,
    seed: values.seed === undefined ? randomSeed() : BigInt(count('seed')),
    steps: count('steps'),
    size: count('size'),
    guidance: Number(values.guidance),
    maxTokens: count('max-tokens'),
    beams: count('beams'),
    verifiers: count('verifiers'),
    timeoutBlocks: count('timeout-blocks'),
  };
}

function randomSeed() {
  return crypto.getRandomValues(new BigUint64Array(1))[0];
}

/// A dispatch error as `Pallet::Error (docs)`, from the metadata.
function describe(api, error) {
  if (error.isModule) {
    const { section, name, docs } = api.registry.findMetaError(error.asModule);
    return `${section}::${name}${docs.length ? ` (${docs.join(' ').trim()})` : ''}`;
  }
  return error.toString();
}

/// The model by id or name (the newest one of that name not retired).
async function findModel(api, wanted) {
  const entries = await api.query.tasks.models.entries();
  const models = entries
    .map(([key, info]) => [key.args[0].toNumber(), info.unwrap()])
    .sort((a, b) => a[0] - b[0]);
  const found = /^\d+$/.test(wanted)
    ? models.find(([id]) => id === Number(wanted))
    : models.reverse().find(([, info]) => info.name.toUtf8() === wanted && !info.retired.isTrue);
  if (!found) fail(`no model \`${wanted}\` on chain`);
  if (found[1].retired.isTrue) fail(`model ${found[0]} is retired`);
  return found;
}

/// Signs and sends `tx`; resolves with the events once its block is finalized.
function submit(api, tx, pair) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(pair, ({ status, events, dispatchError }) => {
      if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`transaction ${status.type}`));
      if (!status.isFinalized) return;
      if (dispatchError) reject(new Error(`the chain refused it: ${describe(api, dispatchError)}`));
      else resolve(events);
    }).catch(reject);
  });
}

/// Calls `onBlock(number, events)` for every finalized block after `from`, in order, until it
/// returns a value; resolves with that value.
function followFinalized(api, from, onBlock) {
  return new Promise((resolve, reject) => {
    let next = from + 1;
    let busy = Promise.resolve();
    let unsubscribe;
    api.rpc.chain
      .subscribeFinalizedHeads((header) => {
        const head = header.number.toNumber();
        busy = busy.then(async () => {
          // Finality may jump several blocks: visit each one.
          for (; next <= head; next++) {
            const hash = await api.rpc.chain.getBlockHash(next);
            const events = await (await api.at(hash)).query.system.events();
            const done = onBlock(next, events.map((record) => record.event));
            if (done !== undefined) {
              unsubscribe?.();
              resolve(done);
              return;
            }
          }
        }).catch(reject);
      })
      .then((u) => (unsubscribe = u), reject);
  });
}

// A worker learns that its reveal was included a moment after the block that holds it, which
// this client may see first: winners answering 403 ("not revealed yet") are asked again.
const REVEAL_GRACE_MS = 30_000;

/// Image `index` of `task` from the first winner whose copy has the on-chain digest.
async function downloadVerified(api, winners, task, index, digest) {
  const giveUp = Date.now() + REVEAL_GRACE_MS;
  for (;;) {
    const problems = [];
    let notYet = false;
    for (const winner of winners) {
      const info = await api.query.workers.workers(winner);
      if (info.isNone) continue;
      const endpoint = info.unwrap().endpoint.toUtf8().replace(/\/+$/, '');
      const url = `${endpoint}/tasks/${task}/image-${index}.png`;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        if (response.status === 403) notYet = true;
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const png = new Uint8Array(await response.arrayBuffer());
        if (u8aEq(blake2AsU8a(png, 256), digest)) return png;
        problems.push(`${url}: digest differs from the chain's`);
      } catch (e) {
        problems.push(`${url}: ${e.message}`);
      }
    }
    if (!notYet || Date.now() >= giveUp) {
      fail(`no winner served image ${index} of task ${task} with the on-chain digest: ${problems.join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main() {
  const args = options();
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(args.node), noInitWarn: true, throwOnConnect: true })
    .catch((e) => fail(`cannot connect to the Replica node at ${args.node}: ${e.message}`));
  const pair = new Keyring({ type: 'sr25519' }).addFromUri(args.key);
  const [model, info] = await findModel(api, args.model);

  const params = info.kind.isImage
    ? {
        Image: {
          prompt: args.prompt,
          negativePrompt: '',
          seed: args.seed,
          steps: args.steps ?? Math.min(info.maxSteps.toNumber(), 30),
          guidanceMilli: Math.round(args.guidance * 1000),
          width: args.size ?? Math.min(info.maxSide.toNumber(), 512),
          height: args.size ?? Math.min(info.maxSide.toNumber(), 512),
          count: 1,
        },
      }
    : {
        Text: {
          prompt: args.prompt,
          maxTokens: args.maxTokens,
          decoding: args.beams === undefined ? 'Greedy' : { Beam: { width: args.beams } },
        },
      };
  const spec = {
    model,
    params,
    verification: args.verifiers === undefined ? null : { Replicated: { verifiers: args.verifiers } },
    quorum: null,
    fee: info.minFee,
  };
  const from = (await api.rpc.chain.getHeader()).number.toNumber();
  const events = await submit(api, api.tx.tasks.createTask(spec), pair).catch((e) => fail(`creating the task: ${e.message}`));
  const created = events.map(({ event }) => event).find((event) => api.events.tasks.TaskCreated.is(event));
  if (!created) fail('no Tasks.TaskCreated event');
  const task = created.data.task.toBigInt();
  console.log(`task ${task} created: model ${model} (${info.name.toUtf8()}), fee ${info.minFee.toString()} planck`);

  const { TaskAssigned, RevealPhaseStarted, TaskEscalated, TaskFailed, TaskFinalized } = api.events.tasks;
  const finalized = await followFinalized(api, from, (number, blockEvents) => {
    if (number > from + args.timeoutBlocks) fail(`task ${task}: no verdict after ${args.timeoutBlocks} blocks`);
    for (const event of blockEvents) {
      if (event.data.task?.toBigInt?.() !== task) continue;
      if (TaskAssigned.is(event)) {
        console.log(`#${number}: round ${event.data.round} assigned to ${event.data.workers.length} worker(s), commit by #${event.data.commitDeadline}`);
      } else if (RevealPhaseStarted.is(event)) {
        console.log(`#${number}: all committed; revealing until #${event.data.deadline}`);
      } else if (TaskEscalated.is(event)) {
        console.log(`#${number}: no quorum; round ${event.data.round} will be drawn afresh with ${event.data.verifiers} worker(s)`);
      } else if (TaskFailed.is(event)) {
        fail(`task ${task} failed (${event.data.reason.type}); the fee was refunded`);
      } else if (TaskFinalized.is(event)) {
        console.log(`#${number}: finalized`);
        return event;
      }
    }
    return undefined;
  });

  const { result, winners, share } = finalized.data;
  console.log(`winners, each credited ${share.toString()} planck:`);
  for (const winner of winners) console.log(`  ${winner.toString()}`);
  if (result.isImage) {
    mkdirSync(args['out-dir'], { recursive: true });
    for (const [index, image] of result.asImage.entries()) {
      const digest = image.pngDigest.toU8a();
      const png = await downloadVerified(api, winners, task, index, digest);
      const path = join(args['out-dir'], `task-${task}-image-${index}.png`);
      writeFileSync(path, png);
      console.log(`verified image ${path} (blake2-256 ${u8aToHex(digest)} as on chain)`);
    }
  } else if (result.isText) {
    console.log(`verified text (tokens digest ${result.asText.tokensDigest.toHex()}):`);
    console.log(result.asText.text.toUtf8());
  } else {
    console.log(`the workers agreed the task cannot run: ${result.asCannotExecute.toString()}`);
  }
  await api.disconnect();
}

main().catch((e) => fail(e.message));
