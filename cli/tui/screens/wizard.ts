/**
 * First-boot wizard: host name, management address and gateway, the admin
 * password (weak or empty ones refused here, before anything is sent), an
 * SNMPv3 user and NETCONF on/off. Writes the system container into the
 * candidate and commits it; a daemon error leaves the form as typed.
 */
import type { App, Screen } from '../app.js';
import { passwordProblem } from '../password-policy.js';
import { Form, text } from '../widgets.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const leaf = (name: string, v: string) => (v ? `<${name}>${esc(v)}</${name}>` : '');

export class LocalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function wizardScreen(app: App): Screen {
  let form: Form | undefined;
  return {
    title: 'First-boot setup',
    help: 'Up/Down:move Enter:edit/select',
    async show() {
      const cfg = await app.client.getConfig('running');
      const sys = cfg.system;
      text(app, 0, 3, ' Welcome. Set up the appliance, then choose [ Apply and commit ].\n The admin password needs 10+ characters of three kinds (a-z A-Z 0-9 symbols).');
      form = new Form(
        app,
        [
          { key: 'hostname', label: 'Host name', value: sys.hostname ?? 'vcn' },
          { key: 'interface', label: 'Management interface', value: sys.management.interface ?? 'eth0' },
          { key: 'address', label: 'Management address/len', value: sys.management.address ?? '', hint: 'e.g. 192.0.2.10/24' },
          { key: 'gateway', label: 'Default gateway', value: sys.management.gateway ?? '' },
          { key: 'password', label: 'Admin password', value: '', kind: 'secret' },
          { key: 'password2', label: 'Admin password again', value: '', kind: 'secret' },
          { key: 'snmpUser', label: 'SNMPv3 user', value: sys.snmp['v3-user'][0]?.name ?? 'nms', hint: '(empty: none)' },
          { key: 'snmpAuth', label: 'SNMPv3 auth pass phrase', value: '', kind: 'secret', hint: '8+ chars' },
          { key: 'snmpPriv', label: 'SNMPv3 priv pass phrase', value: '', kind: 'secret', hint: '8+ chars' },
          { key: 'netconf', label: 'NETCONF over SSH', value: sys.management.netconf.enabled ? 'on' : 'off', kind: 'choice', choices: ['on', 'off'] },
        ],
        [
          { label: 'Apply and commit', run: () => apply() },
          { label: 'Skip', run: () => app.go('dashboard') },
        ],
        { top: 3, height: 18 },
      );
    },
  };

  async function apply(): Promise<void> {
    const f = form!;
    const v = (k: string) => f.value(k);
    const weak = passwordProblem(v('password'));
    if (weak) throw new LocalError('WEAK_PASSWORD', `admin password refused: ${weak}`);
    if (v('password') !== v('password2')) throw new LocalError('PASSWORD_MISMATCH', 'the two admin passwords differ');
    const snmp = v('snmpUser')
      ? `<snmp><v3-user><name>${esc(v('snmpUser'))}</name>${leaf('auth-password', v('snmpAuth'))}${leaf('priv-password', v('snmpPriv'))}</v3-user></snmp>`
      : '';
    const xml =
      `<system xmlns="urn:vcn:appliance">${leaf('hostname', v('hostname'))}` +
      `<management>${leaf('interface', v('interface'))}${leaf('address', v('address'))}${leaf('gateway', v('gateway'))}<netconf><enabled>${v('netconf') === 'on'}</enabled></netconf></management>` +
      `<login><user><name>admin</name><class>admin</class>${leaf('password', v('password'))}</user></login>${snmp}</system>`;
    app.info('Applying ...');
    await app.client.editConfig(xml);
    const r = await app.client.commit({ comment: 'first-boot wizard' });
    app.hostname = v('hostname');
    await app.go('dashboard');
    app.info(`Setup committed as commit ${r.commitId}.`);
  }
}
