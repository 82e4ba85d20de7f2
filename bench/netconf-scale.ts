/**
 * NETCONF at scale, against the daemon as it runs on the appliance (its own
 * process, real nftables in a namespace made for the run):
 *   - loading N services with one edit-config + commit (unix socket)
 *   - get-config of the running N services: time and bytes, over the unix
 *     socket and over SSH (ssh2 client, password login from the configuration)
 *   - get-config with a subtree filter for one service
 *   - edit-config + commit of one service on top of N (add, then change)
 * Numbers are printed (median and range of several runs), not asserted.
 *
 *   node --import tsx bench/netconf-scale.ts [services=10000] [runs=5]
 */
import type { Config } from '../appliance/model/config.generated.js';
import { toXml } from '../mgmt/schema/config-codec.js';
import { GET_CONFIG, NcClient } from './lib/nc-client.js';
import { renameInterfaces, startNcProcess } from './lib/nc-daemon-process.js';
import { median, range } from './lib/measure.js';
import { scaleConfig } from './scale-config.js';

const N = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 5);
const USER = { name: 'bench', password: 'bench-pw' };
const VCN = 'urn:vcn:appliance';
const ms = (x: number) => `${Math.round(x)} ms`;
const mb = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
const spread = (xs: number[]) => {
  const [lo, hi] = range(xs);
  return `${ms(median(xs))} (${ms(lo)}–${ms(hi)})`;
};

async function timed(c: NcClient, body: string): Promise<{ ms: number; bytes: number; reply: string }> {
  const before = c.bytesIn;
  const t0 = performance.now();
  const reply = await c.rpc(body);
  const t = performance.now() - t0;
  if (reply.includes('<rpc-error>')) throw new Error(`rpc failed: ${reply.slice(0, 800)}`);
  return { ms: t, bytes: c.bytesIn - before, reply };
}

const serviceXml = (i: number, extra = '') =>
  `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><services xmlns="${VCN}"><service><name>bench${i}</name><service-ip>10.250.${(i >> 8) & 255}.${i & 255}</service-ip>` +
  `<port><port>80</port><step><seq>1</seq><pool>firewalls</pool></step><step><seq>2</seq><device>srv${i % 64}</device></step></port>${extra}</service></services></config>`;

// The daemon runs with the young-generation size the appliance's unit gives it (NETCONF_NODE_ARGS overrides).
const NODE_ARGS = (process.env.NETCONF_NODE_ARGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean);
const p = await startNcProcess({ maxMessage: 256 * 1024 * 1024, nodeArgs: NODE_ARGS });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await p.stop();
};
process.on('SIGINT', () => void stop().then(() => process.exit(130)));
try {
  console.log(`NETCONF scale: ${N} services, daemon pid ${p.pid} (node ${NODE_ARGS.join(' ') || 'defaults'}) with real nftables in ${p.ns}; ${RUNS} runs each`);
  const unix = await NcClient.unix(p.socket);
  const config: Config = renameInterfaces(scaleConfig(N), p.ifnames);
  config.system.login.user = [{ name: USER.name, class: 'admin', password: USER.password, 'ssh-key': [] }];
  const body = toXml(config as never);
  const load = await timed(unix, `<edit-config><target><candidate/></target><default-operation>replace</default-operation><config>${body}</config></edit-config>`);
  const commit = await timed(unix, '<commit/>');
  console.log(`load ${N} services: edit-config ${ms(load.ms)} (${mb(Buffer.byteLength(body))} sent), commit ${ms(commit.ms)} (full nft load)`);

  const ssh = await NcClient.ssh({ host: '127.0.0.1', port: p.sshPort, username: USER.name, password: USER.password });
  for (const [name, c] of [
    ['unix socket', unix],
    ['SSH', ssh],
  ] as const) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await timed(c, GET_CONFIG());
      if (!r.reply.includes(`<name>svc${N - 1}</name>`)) throw new Error('get-config lacks the last service');
      times.push(r.ms);
      bytes = r.bytes;
    }
    console.log(`get-config ${N} services over ${name.padEnd(11)} ${spread(times)}, ${mb(bytes)} per reply`);
  }
  const filt: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await timed(unix, `<get-config><source><running/></source><filter type="subtree"><services xmlns="${VCN}"><service><name>svc${(i * 997) % N}</name></service></services></filter></get-config>`);
    filt.push(r.ms);
  }
  console.log(`get-config, subtree filter for one service  ${spread(filt)}`);

  const edit: number[] = [];
  const com: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Add a service, then change it: two one-service commits per run.
    for (const extra of ['', '<dscp>10</dscp>']) {
      edit.push((await timed(unix, `<edit-config><target><candidate/></target><config>${serviceXml(i, extra).replace(/^<config[^>]*>|<\/config>$/g, '')}</config></edit-config>`)).ms);
      com.push((await timed(unix, '<commit/>')).ms);
    }
  }
  console.log(`one service on top of ${N}: edit-config ${spread(edit)}, commit ${spread(com)}`);
  unix.close();
  ssh.close();
} finally {
  await stop();
}
