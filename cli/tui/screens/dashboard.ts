/**
 * Dashboard: engine status, interfaces, top services by traffic, device
 * health, recent events and the countdown of a pending confirmed commit.
 */
import type { Config } from '../../../appliance/model/config.generated.js';
import type { EventEntry } from '../../netconf-client/client.js';
import { human, trafficByService } from '../../views/config-views.js';
import type { App, Screen } from '../app.js';
import { text } from '../widgets.js';

/** An event's JSON detail as `key=value` words (one screen line). */
export function eventDetail(detail: string | undefined): string {
  if (!detail) return '';
  try {
    const o = JSON.parse(detail) as unknown;
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      return Object.entries(o as Record<string, unknown>)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
    }
  } catch {
    // not JSON: shown as it is
  }
  return detail;
}

export function dashboardScreen(app: App): Screen {
  let box: ReturnType<typeof text> | undefined;
  let config: Config | undefined;
  let configCommit: number | undefined;
  let events: EventEntry[] = [];

  const draw = () => {
    if (!box || !config) return;
    const st = app.state;
    const L: string[] = [];
    const pending = app.pendingSeconds();
    L.push(` Engine      running commit ${st.runningCommit ?? 'none'}   data plane ${st.countersError ? `ERROR ${st.countersError}` : 'loaded, counters ok'}`);
    L.push(
      pending !== undefined
        ? ` Confirm     commit ${st.pending!.commitId} reverts to ${st.pending!.revertTo} in ${Math.floor(pending / 60)}:${String(pending % 60).padStart(2, '0')} unless confirmed (c)`
        : ' Confirm     no confirmed commit pending',
    );
    const ifs = config.interfaces.interface.map((i) => `${i.name}:${i.role === 'device-segment' ? 'dev' : i.role}`);
    L.push(` Interfaces  ${ifs.join(' ') || 'none'}`);
    const devs = config.devices.device;
    const maint = devs.filter((d) => d['admin-state'] === 'maintenance').map((d) => d.name);
    const failed = (st.health?.devices ?? []).filter((h) => h.outOfService).map((h) => h.name);
    const health = st.health ? (failed.length ? `, FAILED: ${failed.join(' ')}` : ', health checks ok') : ', no health checks';
    L.push(` Devices     ${devs.length - maint.length} in service, ${maint.length} in maintenance${maint.length ? `: ${maint.join(' ')}` : ''}${health}`.slice(0, 79));
    if (st.health?.unavailable.length) L.push(` Unavailable ${st.health.unavailable.map((u) => `${u.service} (${u.reason})`).join(', ')}`.slice(0, 79));
    L.push('');
    L.push(' Top services by traffic        packets      bytes');
    const top = trafficByService(st.servicePorts).slice(0, 5);
    for (const t of top) L.push(`   ${t.service.padEnd(26)} ${human(t.packets).padStart(9)} ${human(t.bytes).padStart(10)}`);
    if (!top.length) L.push('   (no services)');
    while (L.length < 12) L.push('');
    L.push(' Recent events');
    for (const e of events.slice(0, 7)) L.push(`   ${e.time.slice(11, 19)} ${e.kind.padEnd(14)} ${(e.subject ?? '').padEnd(6)} ${eventDetail(e.detail)}`.slice(0, 79));
    box.setContent(L.join('\n'));
  };

  return {
    title: 'Dashboard',
    help: '(live)',
    async show() {
      box = text(app, 0, 21, '');
      configCommit = undefined;
    },
    async refresh() {
      if (configCommit !== app.state.runningCommit || !config) {
        config = await app.client.getConfig('running');
        configCommit = app.state.runningCommit;
        app.hostname = config.system.hostname ?? app.hostname;
      }
      events = await app.client.events(7);
      draw();
    },
  };
}
