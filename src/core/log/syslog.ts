/**
 * Syslog transport. The local daemon listens on a Unix datagram socket (/dev/log on Linux,
 * /var/run/syslog on macOS). Neither Node's nor Bun's socket APIs speak Unix datagrams, so we call
 * libc through bun:ffi; it is loaded only when a syslog target is chosen. Without a local socket we
 * fall back to UDP 127.0.0.1:514, as the original does.
 */
import { existsSync } from "node:fs";

const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21,
  local6: 22, local7: 23,
};

/** Facility number of `local0`, `daemon`, ...; throws on an unknown name. */
export function parseFacility(name: string): number {
  const n = FACILITIES[name.trim().toLowerCase()];
  if (n === undefined) throw new Error(`unknown syslog facility "${name}"`);
  return n;
}

export interface SyslogTransport {
  send(message: string): void;
  close(): void;
}

const SOCKET_PATHS = ["/dev/log", "/var/run/syslog"];

export function openSyslog(socketPath?: string): SyslogTransport {
  const paths = socketPath ? [socketPath] : SOCKET_PATHS;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const t = openUnixDatagram(path);
    if (t) return t;
  }
  if (socketPath) throw new Error(`cannot connect to syslog socket ${socketPath}`);
  return openUdp("127.0.0.1", 514);
}

function openUdp(host: string, port: number): SyslogTransport {
  // Loaded here: every command that logs imports this module, and node:dgram costs ~1 ms to load.
  const sock = process.getBuiltinModule("node:dgram").createSocket("udp4");
  sock.unref();
  return {
    send(message) {
      // Best effort, as syslog over UDP always is; a send error must not crash the program.
      sock.send(Buffer.from(message), port, host, () => {});
    },
    close() {
      sock.close();
    },
  };
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const MSG_NOSIGNAL = 0x4000;

/** A connected Unix datagram socket, or undefined when it cannot be created or connected. */
function openUnixDatagram(path: string): SyslogTransport | undefined {
  // Required lazily: bun:ffi exists only under Bun, and only syslog users need it.
  let ffi: typeof import("bun:ffi");
  try {
    ffi = require("bun:ffi") as typeof import("bun:ffi");
  } catch {
    return undefined;
  }
  const isMac = process.platform === "darwin";
  const libc = ffi.dlopen(isMac ? "libSystem.B.dylib" : "libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
    send: { args: ["i32", "ptr", "usize", "i32"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
  });
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) {
    libc.close();
    return undefined;
  }
  const addr = sockaddrUn(path, isMac);
  if (libc.symbols.connect(fd, ffi.ptr(addr), addr.byteLength) !== 0) {
    libc.symbols.close(fd);
    libc.close();
    return undefined;
  }
  const flags = isMac ? 0 : MSG_NOSIGNAL;
  return {
    send(message) {
      const bytes = Buffer.from(message);
      // Failure (daemon restarted, buffer full) loses the line, as with any datagram syslog.
      libc.symbols.send(fd, ffi.ptr(bytes), bytes.byteLength, flags);
    },
    close() {
      libc.symbols.close(fd);
      libc.close();
    },
  };
}

/** struct sockaddr_un: Linux {u16 family; char path[108]}, BSD/macOS {u8 len; u8 family; char path[104]}. */
function sockaddrUn(path: string, bsd: boolean): Uint8Array {
  const pathBytes = Buffer.from(path);
  const max = bsd ? 104 : 108;
  if (pathBytes.byteLength >= max) throw new Error(`syslog socket path too long: ${path}`);
  const addr = new Uint8Array(2 + max);
  if (bsd) {
    addr[0] = addr.byteLength;
    addr[1] = AF_UNIX;
  } else {
    new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  }
  addr.set(pathBytes, 2);
  return addr;
}
