/** The lab's public surface: import from here, not from the files behind it. */
export { Lab } from './lab.js';
export type { Counter, LabDescription, LinkStats } from './lab.js';
export { cleanupStale } from './state.js';
export { demoConfig } from './demo-config.js';
export { planLab, hostIp, enginePortOf, addrOf, ROLES, SERVER_ROLES } from './topology.js';
export type { LabOptions, LabPlan, Role, HostRole, ServerRole, ServiceIps, EnginePortPlan, HostPlan, IfacePlan } from './topology.js';
export { Capture } from './capture.js';
export type { CaptureOptions, WaitOptions } from './capture.js';
export type { Ids, AlertSpec } from './ids.js';
export type { ServerRecord } from './servers.js';
export { udpFrame, tcpFrame, arpRequest, ndSolicit, ethernet, parseFrame } from './frames.js';
export type { ParsedPacket, L4Spec, TcpSpec } from './frames.js';
export { FW_BLOCKED } from './rulesets.js';
export type { BackgroundProcess, RunResult, RunOptions } from './netns.js';
