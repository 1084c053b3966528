// The 32-bit virtual board: MicroPython's WebAssembly port under node.
//
//   node board.mjs --runtime PATH/micropython.mjs --flash DIR [--heapsize BYTES]
//                  [--pystack WORDS] [--uart-fd N] [--mount / | /flash] [--exec CODE]
//                  [--exec-async CODE]
//
// stdin/stdout carry the board's REPL bytes (boards/wasm32/launch.py puts them
// on a pty). Every input byte goes to the port's event-driven REPL
// (replProcessChar); a forced exit (Ctrl-D on an empty line, SystemExit) is a
// soft reset: a fresh interpreter on the same file system.
//
// Flash: the port's file system is emscripten's in-memory one (this build has
// no NODEFS), so DIR is loaded into its /flash at boot and every change is
// written back to DIR whenever the REPL goes idle, before a soft reset and on
// SIGTERM. _boot.py mounts /flash at "/" for Python.
//
// UART: /dev/uart0 is a character device whose read/write go straight to the
// inherited fd --uart-fd (the simulator's pty, opened non-blocking and raw by
// the launcher): a read returns what is waiting, never blocks the VM.
//
// --exec CODE: boot, run CODE, print its output, write the flash back and exit
// (status 1 if it raised): the unit tests run this way, without a REPL. Several --exec run
// one after the other, each a top-level call: this port collects garbage only
// between top-level calls (gc.collect() inside one only asks for it; the
// heap grows instead), as it cannot scan the WebAssembly stack for roots.
//
// Messages for the launcher go to stderr, one line each, prefixed "wasm32: ".

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DRIVERS = path.join(HERE, "lib");
const BOOT = path.join(HERE, "_boot.py");
// where the board's files live in emscripten's file system (_boot.py mounts
// it at "/" for Python)
const FLASH_ROOT = "/flash";
const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const FRIENDLY_BANNER = 'Type "help()" for more information.\r\n';
const EAGAIN = "EAGAIN";
const EIO = 29;          // emscripten errno numbers
const CTRL_A = 1, CTRL_E = 5, FORCED_EXIT = 0x100;

function parseArgs(argv) {
  const opts = { heapsize: 192 * 1024, pystack: 2048, uartFd: -1, mount: "/" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail("missing value for " + key);
    if (key === "--runtime") opts.runtime = value;
    else if (key === "--flash") opts.flash = value;
    else if (key === "--heapsize") opts.heapsize = parseInt(value, 10);
    else if (key === "--pystack") opts.pystack = parseInt(value, 10);
    else if (key === "--uart-fd") opts.uartFd = parseInt(value, 10);
    else if (key === "--mount") opts.mount = value;
    else if (key === "--exec") (opts.exec = opts.exec || []).push(value);
    // --exec-async CODE: as --exec, through runPythonAsync (top-level await:
    // this port's asyncio runs on the JavaScript event loop, no asyncio.run)
    else if (key === "--exec-async") (opts.exec = opts.exec || []).push({ async: value });
    else fail("unknown option " + key);
  }
  if (!opts.runtime || !opts.flash) fail("--runtime and --flash are required");
  if (opts.mount !== "/" && opts.mount !== "/flash") fail("--mount is / or /flash");
  return opts;
}

function fail(message) {
  process.stderr.write("wasm32: error: " + message + "\n");
  process.exit(2);
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms) {
  Atomics.wait(sleepCell, 0, 0, ms);
}

// Blocking write of all of data to fd (a pipe or pty may be non-blocking).
function writeAll(fd, data) {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if (e.code !== EAGAIN) throw e;
      sleepMs(1);
    }
  }
}

// -- REPL output: buffered, with the banners noted -----------------------------

class Output {
  constructor() {
    this.chunks = [];
    this.size = 0;
    this.muted = false;
    this.tail = "";
    this.mode = "friendly";   // what the REPL last announced
  }

  byte(b) {
    if (this.muted) return;
    this.chunks.push(b);
    this.size += 1;
    // a line end or a full buffer goes out at once: long runs stream their output
    if (b === 10 || this.size >= 4096) this.flush();
  }

  bytes(data) {
    for (const b of data) this.byte(b);
  }

  flush() {
    if (!this.size) return;
    const data = Buffer.from(this.chunks);
    this.chunks = [];
    this.size = 0;
    const seen = this.tail + data.toString("latin1");
    const raw = seen.lastIndexOf(RAW_BANNER), friendly = seen.lastIndexOf(FRIENDLY_BANNER);
    if (raw >= 0 || friendly >= 0) this.mode = raw > friendly ? "raw" : "friendly";
    this.tail = seen.slice(-FRIENDLY_BANNER.length);
    writeAll(1, data);
  }
}

// -- flash: a host directory mirrored into emscripten's file system ------------

class Flash {
  constructor(dir) {
    this.dir = dir;
    this.known = new Map();   // board path -> mtime last written to the host
    fs.mkdirSync(dir, { recursive: true });
  }

  load(FS) {
    this.known.clear();
    const walk = (hostDir, boardDir) => {
      for (const ent of fs.readdirSync(hostDir, { withFileTypes: true })) {
        const host = path.join(hostDir, ent.name);
        const board = boardDir + "/" + ent.name;
        if (ent.isDirectory()) {
          try { FS.mkdir(board); } catch (e) { /* exists */ }
          this.known.set(board, "dir");
          walk(host, board);
        } else if (ent.isFile()) {
          FS.writeFile(board, fs.readFileSync(host));
          this.known.set(board, FS.stat(board).mtime.getTime());
        }
      }
    };
    try { FS.mkdir(FLASH_ROOT); } catch (e) { /* exists */ }
    walk(this.dir, FLASH_ROOT);
  }

  // Write what changed on the board back to the host directory.
  save(FS) {
    const seen = new Set();
    const walk = (boardDir) => {
      for (const name of FS.readdir(boardDir)) {
        if (name === "." || name === "..") continue;
        const board = boardDir + "/" + name;
        const st = FS.stat(board);
        const host = path.join(this.dir, board.slice(FLASH_ROOT.length));
        seen.add(board);
        if (FS.isDir(st.mode)) {
          if (this.known.get(board) !== "dir") {
            fs.mkdirSync(host, { recursive: true });
            this.known.set(board, "dir");
          }
          walk(board);
        } else if (FS.isFile(st.mode)) {
          const mtime = st.mtime.getTime();
          if (this.known.get(board) !== mtime) {
            fs.writeFileSync(host + ".new", FS.readFile(board));
            fs.renameSync(host + ".new", host);
            this.known.set(board, mtime);
          }
        }
      }
    };
    walk(FLASH_ROOT);
    // deepest first, so a directory is empty when its turn comes
    const gone = [...this.known.keys()].filter((p) => !seen.has(p)).sort().reverse();
    for (const board of gone) {
      fs.rmSync(path.join(this.dir, board.slice(FLASH_ROOT.length)), { recursive: true, force: true });
      this.known.delete(board);
    }
  }
}

// -- /dev/uart0: the simulator's pty, read without blocking -----------------------

function addUart(FS, fd) {
  const dev = FS.makedev(64, 0);
  FS.registerDevice(dev, {
    open(stream) { stream.seekable = false; },
    close(stream) {},
    read(stream, buffer, offset, length, pos) {
      try {
        return fs.readSync(fd, buffer, offset, length, null);
      } catch (e) {
        if (e.code === EAGAIN) return 0;   // nothing waiting: the VM goes on
        throw new FS.ErrnoError(EIO);
      }
    },
    write(stream, buffer, offset, length, pos) {
      try {
        writeAll(fd, buffer.subarray(offset, offset + length));
      } catch (e) {
        throw new FS.ErrnoError(EIO);
      }
      return length;
    },
  });
  FS.mkdev("/dev/uart0", 0o666, dev);
}

// -- the board -------------------------------------------------------------------

class Board {
  constructor(opts, loadMicroPython) {
    this.opts = opts;
    this.load = loadMicroPython;
    this.out = new Output();
    this.flash = new Flash(opts.flash);
    this.mp = null;
    this.input = [];
    this.busy = false;
    this.pasteProbe = 0;   // bytes of a raw-paste request seen (Ctrl-E 'A' Ctrl-A)
  }

  async boot(enterRaw) {
    const out = this.out;
    this.mp = await this.load({
      heapsize: this.opts.heapsize,
      pystack: this.opts.pystack,
      linebuffer: false,
      stdout: (data) => out.bytes(data),
      stderr: (data) => out.bytes(data),
    });
    const FS = this.mp.FS;
    this.flash.load(FS);
    try { FS.mkdir(FLASH_ROOT + "/lib"); } catch (e) { /* exists */ }
    for (const name of fs.readdirSync(DRIVERS)) {
      if (!name.endsWith(".py")) continue;
      const data = fs.readFileSync(path.join(DRIVERS, name));
      const dest = FLASH_ROOT + "/lib/" + name;
      let same = false;
      try { same = Buffer.from(FS.readFile(dest)).equals(data); } catch (e) { /* missing */ }
      if (!same) FS.writeFile(dest, data);
    }
    if (this.opts.uartFd >= 0) addUart(FS, this.opts.uartFd);
    this.mp.globals.set("_wasm32_raw", enterRaw);
    this.mp.globals.set("_wasm32_mount", this.opts.mount);
    try {
      this.mp.runPython(fs.readFileSync(BOOT, "utf8"));
    } catch (e) {
      out.bytes(Buffer.from(String(e.message || e) + "\r\n"));
    }
    // The friendly banner of replInit is what a board prints after a reset in
    // the friendly REPL; in the raw REPL it prints only the raw banner.
    out.flush();
    if (this.opts.exec !== undefined) return;   // no REPL: the code runs next
    out.muted = enterRaw;
    this.mp.replInit();
    out.muted = false;
    if (enterRaw) this.mp.replProcessChar(CTRL_A);
    out.flush();
    this.flash.save(FS);
  }

  feed(data) {
    for (const b of data) this.input.push(b);
    if (!this.busy) this.drain();
  }

  async drain() {
    this.busy = true;
    try {
      while (this.input.length) {
        const b = this.input.shift();
        if (this.rawPasteRequest(b)) continue;
        const ret = this.mp.replProcessChar(b);
        if (ret & FORCED_EXIT) {
          this.out.flush();
          this.flash.save(this.mp.FS);
          const raw = this.out.mode === "raw";
          this.out.bytes(Buffer.from("MPY: soft reboot\r\n"));
          await this.boot(raw);
        }
      }
      this.out.flush();
      this.flash.save(this.mp.FS);
    } finally {
      this.busy = false;
    }
  }

  // The port's raw-paste mode reads stdin with a blocking call, which would
  // hang the VM here; answer the request the way a board without raw-paste
  // does ("R\x00"), so mpremote falls back to the plain raw REPL.
  rawPasteRequest(b) {
    const want = [CTRL_E, 0x41, CTRL_A];
    if (this.out.mode !== "raw") return false;
    if (b === want[this.pasteProbe]) {
      this.pasteProbe += 1;
      if (this.pasteProbe === want.length) {
        this.pasteProbe = 0;
        this.out.bytes(Buffer.from("R\x00"));
        this.out.flush();
      }
      return true;
    }
    if (this.pasteProbe) {
      // not a request after all: hand over what was held back
      const held = want.slice(0, this.pasteProbe);
      this.pasteProbe = 0;
      for (const h of held) this.mp.replProcessChar(h);
    }
    return false;
  }

  save() {
    if (this.mp) this.flash.save(this.mp.FS);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { loadMicroPython } = await import(pathToFileURL(path.resolve(opts.runtime)).href);
  const board = new Board(opts, loadMicroPython);
  await board.boot(false);
  // the power-cut harness (tools/powercut.py): what the board has written
  // reaches the host directory now, as a real flash holds it, before the
  // process is killed
  globalThis.vboardSaveFlash = () => board.save();
  if (opts.exec !== undefined) {
    let status = 0;
    for (const code of opts.exec) {
      try {
        if (typeof code === "string") board.mp.runPython(code);
        else await board.mp.runPythonAsync(code.async);
      } catch (e) {
        status = 1;
        board.out.bytes(Buffer.from(String(e.message || e)));
        break;
      }
    }
    board.out.flush();
    board.save();
    process.exit(status);
  }
  process.stderr.write("wasm32: booted\n");
  const stop = () => {
    try { board.save(); } finally { process.exit(0); }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("data", (data) => board.feed(data));
  process.stdin.on("end", stop);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
