/**
 * `vcn start`: the embedded default. Brings up the namespace lab, loads the
 * demo configuration into the engine (compile → render → nft in the engine
 * namespace), prints how to send traffic through it and the live per-service
 * counters, and tears everything down on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { kernelFacts } from '../appliance/datapath/kernel-facts.js';
import { NftDriver } from '../appliance/datapath/nft-driver.js';
import { compile } from '../appliance/compile/compile.js';
import type { ServicePolicy } from '../appliance/compile/sequence-table.js';
import { formatIssue } from '../appliance/errors.js';
import { startDaemon } from '../mgmt/daemon.js';
import { checkConfig } from '../mgmt/schema/load-config.js';
import type { CommandIo } from './compile-command.js';
import { Lab, hostIp } from './lab/index.js';

/** Each chain of a service as "port: devices", from the compiler's resolved steps ("port/seq" or "seq" → device). */
function chainsOf(s: ServicePolicy): { port: string; devices: string[] }[] {
  const byPort = new Map<string, [number, string][]>();
  for (const [key, device] of Object.entries(s.resolved)) {
    const [port, seq] = key.includes('/') ? key.split('/') : ['', key];
    byPort.set(port, [...(byPort.get(port) ?? []), [Number(seq), device]]);
  }
  return [...byPort].map(([port, steps]) => ({ port: port ? ` port ${port}` : '', devices: steps.sort((a, b) => a[0] - b[0]).map(([, d]) => d) }));
}

/** The lab's SNMPv3 user (demo pass phrases, printed below). */
/** The lab's NETCONF admin (a lab only: the appliance image has no default password). */
const LAB_ADMIN_PASSWORD = 'vcn-lab-admin';

const LAB_SNMP_USER = { name: 'lab', 'auth-protocol': 'sha-256' as const, 'auth-password': 'lab-auth-pass', 'priv-protocol': 'aes-128' as const, 'priv-password': 'lab-priv-pass' };

export async function startCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { once: { type: 'boolean' }, interval: { type: 'string', default: '10' } } });
  if (process.getuid?.() !== 0) {
    io.err('vcn start: needs root (it creates network namespaces and nftables rules)\n');
    return 1;
  }
  io.out('vcn start: bringing up the lab …\n');
  const lab = await Lab.up();
  let stopping = false;
  let stopDaemon = async () => undefined as void;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    io.out('\nvcn start: stopping the daemon and tearing down the lab …\n');
    await stopDaemon().catch(() => undefined);
    await lab.down();
    io.out('vcn start: done; every namespace and process it made is gone.\n');
  };
  try {
    const ns = lab.ns('eng');
    const datapath = new NftDriver({ netns: ns });
    // SNMP: snmpd in the engine namespace (on its loopback: the lab's engine has no management address) with the VCN-MIB subagent.
    const snmp = { dir: `${lab.plan.workDir}/snmp`, netns: ns };
    // NETCONF: the unix socket the vcn command and the TUI use, and SSH on 127.0.0.1:830 (as an NMS would use it).
    const socket = `${lab.plan.workDir}/netconf.sock`;
    const netconf = { unix: socket, ssh: { port: 830, host: '127.0.0.1' }, adminPassword: LAB_ADMIN_PASSWORD };
    const daemon = await startDaemon({ db: `${lab.plan.workDir}/vcn.db`, netns: ns, datapath, facts: kernelFacts(ns), log: () => undefined, snmp, netconf, health: {} });
    stopDaemon = () => daemon.stop();
    const { config, issues } = checkConfig(JSON.parse(JSON.stringify(lab.demoConfig())));
    if (issues.length) throw new Error(`demo configuration invalid:\n${issues.map(formatIssue).join('\n')}`);
    config.system.snmp = { ...config.system.snmp, enabled: true, 'listen-address': ['127.0.0.1'], community: [{ name: 'lab-ro', source: ['127.0.0.1/32'] }], 'v3-user': [{ ...LAB_SNMP_USER }] };
    const session = daemon.northbound.openSession('admin', 'cli');
    daemon.northbound.setCandidate(session.id, config);
    const result = await daemon.northbound.commit(session.id, { comment: 'vcn start: demo configuration' });
    await daemon.snmp?.settle(); // snmpd and the subagent follow the commit
    await daemon.netconf?.ssh?.settled();
    const prepared = { table: compile(config) };
    const p = lab.plan;
    io.out(
      [
        `vcn start: the daemon committed the demo as commit ${result.commit.id} in ${Math.round(result.timings.total)} ms (store ${lab.plan.workDir}/vcn.db); ` +
          `engine loaded ${prepared.table.services.length} services (${prepared.table.rows.length} sequence-table rows) into table netdev vcn of namespace ${ns}.`,
        '',
        'Services:',
        ...prepared.table.services.flatMap((s) => chainsOf(s).map((c) => `  ${s.service.padEnd(10)} ${s.address}${c.port}  → ${c.devices.join(' → ')}`)),
        '',
        'Send traffic through it (another terminal, as root):',
        `  ip netns exec ${lab.ns('cl')} curl http://${p.service.W1}/          # web: firewall → loopback server`,
        `  ip netns exec ${lab.ns('cl')} curl http://${p.service.W2}/          # web-alias: firewall pool → alias server`,
        `  ip netns exec ${lab.ns('cl')} curl http://${p.service.W3}:8000/     # web-nat: one-armed device → NAT server, port 8000→8080`,
        `  ip netns exec ${lab.ns('cl')} curl http://${p.service.W4}/          # web-ids: firewall → server, copy to the IDS`,
        `  ip netns exec ${lab.ns('cl')} curl -g http://[${p.service.W6}]/     # web6: IPv6 through the firewall`,
        `  ip netns exec ${lab.ns('cl2')} curl http://${p.upstream.ipv4}/        # isp: client ${hostIp(p, 'cl2')} → firewall → upstream`,
        `  ip netns exec ${ns} nft list table netdev vcn                # the engine's ruleset`,
        `  bin/vcn compile --config <file>                                    # sequence table of a configuration file`,
        `  ip netns exec ${ns} snmpbulkwalk -v3 -l authPriv -u ${LAB_SNMP_USER.name} -a SHA-256 -A ${LAB_SNMP_USER['auth-password']} -x AES -X ${LAB_SNMP_USER['priv-password']} 127.0.0.1 1.3.6.1.4.1.32473.1   # VCN-MIB`,
        `  ip netns exec ${ns} snmpbulkwalk -v2c -c lab-ro 127.0.0.1 1.3.6.1.4.1.32473.1.1.2                # service table (v2c)`,
        '',
        'Manage it (NETCONF, like an NMS):',
        `  VCN_SOCKET=${socket} bin/vcn show services       # the vcn command over the NETCONF unix socket`,
        `  VCN_SOCKET=${socket} bin/vcn tui                 # the serial-console TUI (80x24)`,
        daemon.netconf?.ssh?.port
          ? `  NETCONF over SSH: 127.0.0.1:${daemon.netconf.ssh.port}, user admin, password ${LAB_ADMIN_PASSWORD} (e.g. /usr/bin/python3 with ncclient)`
          : '  NETCONF over SSH: not listening (127.0.0.1:830 is in use); the unix socket above serves the same API',
        '',
        `SNMP: snmpd (pid ${daemon.snmp?.snmpd.pid ?? 'not started'}) on 127.0.0.1:161 in ${ns}, files in ${snmp.dir}.`,
        values.once ? '' : `Counters every ${values.interval} s; Ctrl-C tears everything down.`,
        '',
      ].join('\n'),
    );
    if (values.once) {
      await stop();
      return 0;
    }
    await new Promise<void>((resolve) => {
      const onSignal = () => void stop().then(resolve);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const timer = setInterval(async () => {
        if (stopping) return clearInterval(timer);
        const counters = await datapath.readCounters().catch(() => undefined);
        if (!counters) return;
        const lines = [...counters.servicePorts.values()]
          .filter((c) => c.in.packets + c.out.packets > 0)
          .map((c) => `  ${`${c.service}/${c.servicePort ?? '-'}`.padEnd(16)} in ${c.in.packets} pkts ${c.in.bytes} B   out ${c.out.packets} pkts ${c.out.bytes} B`);
        io.out(`[${new Date().toISOString().slice(11, 19)}] ${lines.length ? `\n${lines.join('\n')}` : 'no traffic yet'}\n`);
      }, Number(values.interval) * 1000);
      timer.unref();
    });
    return 0;
  } catch (e) {
    await stop();
    throw e;
  }
}
