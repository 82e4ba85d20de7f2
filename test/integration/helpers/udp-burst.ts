/**
 * A node one-liner for `lab.exec(role, 'node', '-e', …)`: sends `count` UDP datagrams of `size` payload
 * bytes, each after the previous one was handed to the kernel and `gapMs` more (0: at once), so nothing
 * is lost on the way at the default pace.
 */
export function udpBurst(dst: string, port: number, count: number, size: number, gapMs = 1): string {
  return `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${size},120);let i=0;
function next(){if(i++>=${count}){s.close();return}s.send(b,${port},'${dst}',()=>${gapMs ? `setTimeout(next,${gapMs})` : 'setImmediate(next)'})}next();`;
}
