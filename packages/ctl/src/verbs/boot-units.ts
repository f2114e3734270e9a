// `tsvctl boot INIT [DIR]`: the unit (or service directory) that starts `tsvscan DIR` at boot,
// for systemd (system or user), launchd, OpenRC, runit and s6. Pure: paths in, files out.
//
// Node's path is resolved when tsvctl boot runs (process.execPath) and put first on the unit's
// PATH; the unit execs tsvscan's launcher by its real path, and the launcher execs `node` from
// PATH. So the node that ran `tsvctl boot` is the one used at boot, and should that directory go
// away (an nvm upgrade removes the old version's), the launcher still finds a node in the
// standard directories (a distro's /usr/bin/node) instead of failing. Re-run
// `tsvctl boot INIT --install` after moving to another Node (see docs/boot.md).
import { ToolError, EXIT } from '@tsv/core';
import { shellQuote } from './new-service.js';

/** The inits tsvctl boot knows. */
export const BOOT_INITS = ['systemd', 'systemd-user', 'launchd', 'openrc', 'runit', 's6'] as const;
/** One of them. */
export type BootInit = (typeof BOOT_INITS)[number];

/** What the unit is made from: every path absolute, already resolved. */
export interface BootSpec {
  init: BootInit;
  /** the scan directory tsvscan supervises */
  dir: string;
  /** the directory of the node binary to run (dirname of process.execPath) */
  nodeDir: string;
  /** the real path of tsvscan's launcher (bin/tsvscan.cjs) */
  tsvscan: string;
  /** the home directory (user units, launchd's log path) */
  home: string;
  /** the user name (lingering hint) */
  user: string;
}

/** One file of the output: where --install writes it (relative to the target for a service
 * directory), its text and mode. */
export interface BootFile {
  path: string;
  text: string;
  mode: number;
}

/** What boot produces: the files, where they go by default, what to run afterwards. */
export interface BootOutput {
  /** a single unit file, or a service directory (runit, s6) */
  kind: 'file' | 'dir';
  /** default install location: the unit file, or the service directory */
  target: string;
  files: BootFile[];
  /** commands to enable it, printed after --install (and in the printed unit's comments) */
  enable: string[];
}

/** The standard directories, after node's: what the unit's PATH is. */
const STD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The PATH the unit gives tsvscan (and its services): node's directory first. */
export function unitPath(nodeDir: string): string {
  return STD_PATH.split(':').includes(nodeDir) ? STD_PATH : `${nodeDir}:${STD_PATH}`;
}

/** Is init one of BOOT_INITS? */
export function isBootInit(init: string): init is BootInit {
  return (BOOT_INITS as readonly string[]).includes(init);
}

/** Quote a value for a systemd unit line (ExecStart words, Environment): in double quotes
 * when it holds a space, a quote, a backslash or a specifier (%); systemd reads "%%" as "%". */
function sdQuote(word: string): string {
  const w = word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Escape text for an XML element. */
function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A systemd unit (system or user). */
function systemdUnit(s: BootSpec, user: boolean): string {
  return [
    '# made by tsvctl boot: re-run it after moving to another Node or tsvscan (docs/boot.md)',
    '[Unit]',
    `Description=tsvscan: supervise the services of ${s.dir}`,
    'Documentation=https://www.npmjs.com/package/tsvscan',
    ...(user ? [] : ['After=local-fs.target']),
    '',
    '[Service]',
    'Type=simple',
    `Environment=${sdQuote(`PATH=${unitPath(s.nodeDir)}`)}`,
    `ExecStart=${sdQuote(s.tsvscan)} ${sdQuote(s.dir)}`,
    '# TERM stops every service (each within its timeout-kill), then tsvscan exits 0;',
    '# KILL only for what is left of the cgroup after TimeoutStopSec',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=60',
    'Restart=always',
    'RestartSec=1',
    '# many services hold many descriptors (docs/tsvscan.md)',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    `WantedBy=${user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}

/** A launchd agent. */
function launchdPlist(s: BootSpec): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- made by tsvctl boot: re-run it after moving to another Node or tsvscan -->',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key><string>org.tsv.tsvscan</string>',
    '  <key>ProgramArguments</key>',
    `  <array><string>${xml(s.tsvscan)}</string><string>${xml(s.dir)}</string></array>`,
    '  <key>EnvironmentVariables</key>',
    `  <dict><key>PATH</key><string>${xml(unitPath(s.nodeDir))}</string></dict>`,
    '  <key>KeepAlive</key><true/>',
    '  <key>RunAtLoad</key><true/>',
    '  <key>ExitTimeOut</key><integer>60</integer>',
    `  <key>StandardErrorPath</key><string>${xml(`${s.home}/Library/Logs/tsvscan.log`)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** An OpenRC init script, supervised by supervise-daemon (restarted if it dies). */
function openrcScript(s: BootSpec): string {
  return [
    '#!/sbin/openrc-run',
    '# made by tsvctl boot: re-run it after moving to another Node or tsvscan (docs/boot.md)',
    `description=${shellQuote(`tsvscan: supervise the services of ${s.dir}`)}`,
    'supervisor=supervise-daemon',
    `command=${shellQuote(s.tsvscan)}`,
    `command_args=${shellQuote(shellQuote(s.dir))}`,
    `export PATH=${shellQuote(unitPath(s.nodeDir))}`,
    '# TERM stops every service, then tsvscan exits 0; KILL after 60 s',
    'retry="TERM/60/KILL/5"',
    '',
    'depend() {',
    '\tneed localmount',
    '}',
    '',
  ].join('\n');
}

/** The run script of a runit or s6 service running tsvscan (its stderr is the supervisor's
 * log: `exec 2>&1` sends it wherever the service's stdout goes). */
function runScript(s: BootSpec): string {
  return [
    '#!/bin/sh',
    '# made by tsvctl boot: re-run it after moving to another Node or tsvscan (docs/boot.md)',
    'exec 2>&1',
    `PATH=${shellQuote(unitPath(s.nodeDir))}`,
    'export PATH',
    `exec ${shellQuote(s.tsvscan)} ${shellQuote(s.dir)}`,
    '',
  ].join('\n');
}

/** The boot unit for s (files, default place, how to enable it). */
export function bootUnit(s: BootSpec): BootOutput {
  switch (s.init) {
    case 'systemd':
      return { kind: 'file', target: '/etc/systemd/system/tsvscan.service', files: [{ path: 'tsvscan.service', text: systemdUnit(s, false), mode: 0o644 }], enable: ['systemctl daemon-reload', 'systemctl enable --now tsvscan'] };
    case 'systemd-user':
      return {
        kind: 'file',
        target: `${s.home}/.config/systemd/user/tsvscan.service`,
        files: [{ path: 'tsvscan.service', text: systemdUnit(s, true), mode: 0o644 }],
        // why lingering: without it the user's systemd (and tsvscan) stops at logout and starts only at login
        enable: ['systemctl --user daemon-reload', 'systemctl --user enable --now tsvscan', `loginctl enable-linger ${shellQuote(s.user)}    # start at boot, keep running after logout`],
      };
    case 'launchd':
      return { kind: 'file', target: `${s.home}/Library/LaunchAgents/org.tsv.tsvscan.plist`, files: [{ path: 'org.tsv.tsvscan.plist', text: launchdPlist(s), mode: 0o644 }], enable: [`launchctl bootstrap gui/$(id -u) ${shellQuote(`${s.home}/Library/LaunchAgents/org.tsv.tsvscan.plist`)}`] };
    case 'openrc':
      return { kind: 'file', target: '/etc/init.d/tsvscan', files: [{ path: 'tsvscan', text: openrcScript(s), mode: 0o755 }], enable: ['rc-update add tsvscan default', 'rc-service tsvscan start'] };
    case 'runit':
      return { kind: 'dir', target: '/etc/sv/tsvscan', files: [{ path: 'run', text: runScript(s), mode: 0o755 }], enable: ['ln -s /etc/sv/tsvscan /etc/service/    # or your runsvdir\'s directory (/var/service, ...)'] };
    case 's6':
      return { kind: 'dir', target: '/etc/s6/sv/tsvscan', files: [{ path: 'run', text: runScript(s), mode: 0o755 }], enable: ['ln -s /etc/s6/sv/tsvscan /run/service/ && s6-svscanctl -a /run/service    # your s6-svscan\'s directory'] };
  }
}

/** A ToolError for an init tsvctl boot does not know. */
export function unknownInit(init: string): ToolError {
  return new ToolError(`unknown init: ${init} (one of ${BOOT_INITS.join(', ')})`, EXIT.usage);
}
