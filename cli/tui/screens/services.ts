/**
 * Services: the list (from the candidate, so uncommitted work shows), a
 * detail view with each chain drawn hop by hop and the ACL, creation from a
 * package (device or pool per function, or none), and ACL rule edits. Edits
 * go to the candidate; the commit screen commits them.
 */
import type { Config, Service, Step } from '../../../appliance/model/config.generated.js';
import type { App, Screen } from '../app.js';
import { Form, list, text } from '../widgets.js';

const NS = 'urn:vcn:appliance';
const NC = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function hopText(c: Config, s: Step): string {
  const describe = (name: string) => {
    const d = c.devices.device.find((x) => x.name === name);
    if (!d) return `${name} (?)`;
    const legs = d.leg.map((l) => l.interface).join('/');
    return `${name} (${d.function}, ${d['delivery-mode']}${d.ip && d['delivery-mode'] === 'nat' ? ` ${d.ip}` : ''}, ${legs})${d['admin-state'] === 'maintenance' ? ' MAINT' : ''}`;
  };
  let t: string;
  if (s.device) t = describe(s.device);
  else {
    const p = c.pools.pool.find((x) => x.name === s.pool);
    const members = p?.member ?? [];
    const active = members.find((m) => c.devices.device.find((d) => d.name === m)?.['admin-state'] === 'in-service');
    t = `pool ${s.pool}: ${active ? describe(active) : 'no member in service'}${members.length > 1 ? ` alt ${members.filter((m) => m !== active).join(',')}` : ''}`;
  }
  if (s['copy-to'].length) t += ` copy->${s['copy-to'].join(',')}`;
  if (s['translate-port']) t += ` port->${s['translate-port']}`;
  if (s['output-port']) t += ` out:${s['output-port']}`;
  return t;
}

/** The chain of every port, hop by hop, and the ACL. */
export function serviceDetail(c: Config, s: Service): string[] {
  const L: string[] = [];
  L.push(` Service ${s.name}  ${s['service-ip'] ?? ''}${s.package ? `  package ${s.package}` : ''}${s.customer ? `  customer ${s.customer}` : ''}`);
  if (s.description) L.push(`   ${s.description}`);
  const chains: { head: string; steps: Step[]; tail: string }[] = s['source-keyed']
    ? [{ head: `ISP mode: clients ${s['source-keyed']['client-prefix']} via ${s['source-keyed']['client-side']}`, steps: s['source-keyed'].step, tail: `upstream ${s['source-keyed'].upstream}` }]
    : s.port.map((p) => ({ head: `Port ${p.port}/${p.protocol}${p.range ? ` range ${p.range.low}-${p.range.high}` : ''}`, steps: p.step, tail: 'server answers back' }));
  for (const ch of chains) {
    L.push(` ${ch.head}`);
    L.push('   clients');
    const steps = [...ch.steps].sort((a, b) => a.seq - b.seq);
    for (const st of steps) L.push(`     --> [${st.seq}] ${hopText(c, st)}`.slice(0, 79));
    L.push(`     <-- replies return through the same hops in reverse (${ch.tail})`.slice(0, 79));
  }
  L.push(` ACL: default ${s.acl['default-action']}, ${s.acl.rule.length} rule(s)${s.dscp !== undefined ? `   DSCP ${s.dscp}` : ''}${s['rate-limit'] ? `   limit ${s['rate-limit']['packets-per-second']} pps` : ''}`);
  for (const r of s.acl.rule) L.push(`   ${String(r.seq).padStart(4)} ${r.action.padEnd(6)} ${r.source}${r.count ? '  (counted)' : ''}`);
  return L;
}

export function servicesScreen(app: App): Screen {
  let mode: 'list' | 'detail' | 'form' = 'list';
  let config: Config | undefined;
  let selected = 0;
  let detailOf: string | undefined;

  const showList = async () => {
    mode = 'list';
    for (const ch of [...app.body.children]) ch.destroy();
    config = await app.client.getConfig('candidate');
    const ss = config.services.service;
    text(app, 0, 1, ` ${'NAME'.padEnd(16)} ${'ADDRESS'.padEnd(22)} ${'PORTS'.padEnd(14)} ${'PACKAGE'.padEnd(14)} CUSTOMER`);
    const rows = ss.map((s) => {
      const ports = s['source-keyed'] ? 'source-keyed' : s.port.map((p) => p.port).join(',');
      return ` ${s.name.padEnd(16)} ${(s['service-ip'] ?? s['source-keyed']?.['client-prefix'] ?? '').padEnd(22)} ${ports.slice(0, 14).padEnd(14)} ${(s.package ?? '').padEnd(14)} ${s.customer ?? ''}`;
    });
    const l = list(app, { top: 1, height: 20, items: rows.length ? rows : [' (no services: p creates one from a package)'], onSelect: (i) => (ss[i] ? showDetail(ss[i].name) : undefined) });
    l.select(Math.min(selected, Math.max(rows.length - 1, 0)));
    l.on('select item', (_: unknown, i: number) => (selected = i));
    app.setHelp('Enter:chain+ACL p:new from package');
    app.screen.render();
  };

  const showDetail = async (name: string) => {
    mode = 'detail';
    detailOf = name;
    for (const ch of [...app.body.children]) ch.destroy();
    config = await app.client.getConfig('candidate');
    const s = config.services.service.find((x) => x.name === name);
    if (!s) return showList();
    text(app, 0, 21, serviceDetail(config, s).slice(0, 21).join('\n'));
    app.setHelp('Esc:back p:probe e:step a:+rule x:-rule t:ACL dflt');
    app.screen.render();
  };

  const aclEdit = async (inner: string) => {
    await app.client.editConfig(`<services xmlns="${NS}" xmlns:nc="${NC}"><service><name>${esc(detailOf!)}</name><acl>${inner}</acl></service></services>`);
    await showDetail(detailOf!);
    app.info('ACL changed in the candidate (c: commit)');
  };

  const newService = async () => {
    mode = 'form';
    for (const ch of [...app.body.children]) ch.destroy();
    config = await app.client.getConfig('candidate');
    const c = config;
    const pkgs = c.packages.package.map((p) => p.name);
    if (!pkgs.length) {
      app.info('No packages are configured.');
      return showList();
    }
    const ipPools = c['service-ip-pools']?.pool.map((p) => p.name) ?? [];
    text(app, 0, 1, ' New service from a package (Enter on a choice cycles through it)');
    const first: Form = new Form(
      app,
      [
        { key: 'name', label: 'Service name', value: '' },
        { key: 'package', label: 'Package', value: pkgs[0], kind: 'choice', choices: pkgs },
        { key: 'port', label: 'Service port', value: '80' },
        { key: 'protocol', label: 'Protocol', value: 'tcp', kind: 'choice', choices: ['tcp', 'udp', 'any'] },
        { key: 'ip', label: 'Service IP', value: '', hint: '(empty: from the pool below)' },
        { key: 'pool', label: 'Service IP pool', value: ipPools[0] ?? '', kind: 'choice', choices: ['', ...ipPools] },
        { key: 'customer', label: 'Customer', value: '' },
      ],
      [
        { label: 'Next: devices per function', run: (): Promise<void> => choose(first) },
        { label: 'Cancel', run: () => showList() },
      ],
      { top: 1, height: 20 },
    );
    app.setHelp('Up/Down:move Enter:edit/cycle Esc:back');
    app.screen.render();
  };

  const choose = async (first: Form) => {
    const c = config!;
    const pkg = c.packages.package.find((p) => p.name === first.value('package'))!;
    for (const ch of [...app.body.children]) ch.destroy();
    text(app, 0, 2, ` ${first.value('name')}: package ${pkg.name} = ${pkg.function.join(' > ')}\n Pick a device or pool per function (Enter cycles):`);
    const fields = pkg.function.map((fn, i) => {
      const opts = [
        ...c.devices.device.filter((d) => d.function === fn).map((d) => `device ${d.name}`),
        ...c.pools.pool.filter((p) => p.function === fn).map((p) => `pool ${p.name}`),
        'none',
      ];
      return { key: `f${i}`, label: `${i + 1}. ${fn}`, value: opts[0], kind: 'choice' as const, choices: opts };
    });
    const second = new Form(
      app,
      fields,
      [
        {
          label: 'Create in candidate',
          run: async () => {
            const ip = await app.client.createService({
              name: first.value('name'),
              package: pkg.name,
              port: Number(first.value('port')),
              protocol: first.value('protocol') as 'tcp',
              ...(first.value('ip') ? { serviceIp: first.value('ip') } : first.value('pool') ? { serviceIpPool: first.value('pool') } : {}),
              ...(first.value('customer') ? { customer: first.value('customer') } : {}),
              choices: fields.map((f) => {
                const v = second.value(f.key);
                if (v === 'none') return 'none';
                const [kind, name] = v.split(' ');
                return kind === 'pool' ? { pool: name } : { device: name };
              }),
            });
            await showDetail(first.value('name'));
            app.info(`Service ${first.value('name')} (${ip}) added to the candidate: c to commit`);
          },
        },
        { label: 'Back', run: () => backTo(first) },
      ],
      { top: 2, height: 19 },
    );
  };

  // Going back re-shows the first form with its values (nothing typed is lost).
  const backTo = async (first: Form) => {
    for (const ch of [...app.body.children]) ch.destroy();
    text(app, 0, 1, ' New service from a package (Enter on a choice cycles through it)');
    const again: Form = new Form(app, first.fields, [
      { label: 'Next: devices per function', run: () => choose(again) },
      { label: 'Cancel', run: () => showList() },
    ], { top: 1, height: 20 });
    app.screen.render();
  };

  return {
    title: 'Services',
    help: 'Enter:chain+ACL p:new from package',
    async show() {
      await showList();
    },
    async key(name) {
      if (mode === 'list' && name === 'p') {
        await newService();
        return true;
      }
      if (mode !== 'list' && name === 'escape') {
        await showList();
        return true;
      }
      if (mode === 'detail' && config && detailOf) {
        const s = config.services.service.find((x) => x.name === detailOf);
        if (!s) return false;
        if (name === 'a') {
          const next = (s.acl.rule.at(-1)?.seq ?? 0) + 10;
          const a = await app.prompt(`Rule (e.g. "${next} deny 192.0.2.0/24"): `);
          if (!a) return true;
          const [seq, action, source] = a.trim().split(/\s+/);
          await aclEdit(`<rule><seq>${esc(seq ?? '')}</seq><action>${esc(action ?? '')}</action><source>${esc(source ?? '')}</source></rule>`);
          return true;
        }
        if (name === 'x') {
          const seq = await app.prompt('Delete rule seq: ');
          if (!seq) return true;
          await aclEdit(`<rule nc:operation="delete"><seq>${esc(seq.trim())}</seq></rule>`);
          return true;
        }
        if (name === 'e') {
          // Re-point one step of a chain at another device or pool (Fig 20-style regeneration, one service).
          const a = await app.prompt('Step to change ("PORT SEQ device|pool NAME"): ');
          if (!a) return true;
          const [port, seq, kind, target] = a.trim().split(/\s+/);
          if (!port || !seq || (kind !== 'device' && kind !== 'pool') || !target) {
            app.error(new Error('expected e.g. "80 1 pool firewalls"'));
            return true;
          }
          const other = kind === 'device' ? 'pool' : 'device';
          await app.client.editConfig(
            `<services xmlns="${NS}" xmlns:nc="${NC}"><service><name>${esc(detailOf)}</name><port><port>${esc(port)}</port>` +
              `<step><seq>${esc(seq)}</seq><${kind}>${esc(target)}</${kind}><${other} nc:operation="remove"/></step></port></service></services>`,
          );
          await showDetail(detailOf);
          app.info(`Step ${seq} of port ${port} now uses ${kind} ${target} in the candidate (c: commit)`);
          return true;
        }
        if (name === 'p') {
          app.info(`Probing every hop of ${detailOf} ...`);
          const r = await app.client.validateService(detailOf);
          const lines = r.hops.map((h) => `   ${(h.port ?? '').padStart(5)} [${h.seq}] ${`${h.device}${h.copy ? ' (copy)' : ''}`.padEnd(16)} ${(h.check ?? '').padEnd(10)} ${h.result.padEnd(7)} ${h.latencyUs !== undefined ? `${(h.latencyUs / 1000).toFixed(1)} ms` : ''} ${h.error ?? ''}`.slice(0, 79));
          const shown = serviceDetail(config, s).slice(0, 21 - lines.length - 1);
          for (const ch of [...app.body.children]) ch.destroy();
          text(app, 0, 21, [...shown, ' Hop probe:', ...lines].slice(0, 21).join('\n'));
          app.info(r.broken ? `Service ${detailOf} is broken at ${r.broken}.` : `Every hop of ${detailOf} answered.`);
          return true;
        }
        if (name === 't') {
          await aclEdit(`<default-action>${s.acl['default-action'] === 'permit' ? 'deny' : 'permit'}</default-action>`);
          return true;
        }
      }
      return false;
    },
  };
}

