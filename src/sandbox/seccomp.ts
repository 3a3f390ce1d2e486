// A tiny seccomp filter for sandboxed commands: keyctl, add_key and request_key fail with EPERM
// (as in Docker's default profile); every other system call is allowed. Without it a command can
// read the keys in the server's session keyring (it inherits the session keyring, and possession
// grants access whatever the user namespace). Pure: the classic-BPF program is assembled here, byte
// for byte, so no native helper (libseccomp) is needed; bwrap loads it with `--seccomp FD`.
//
// The program, for every architecture a process on this machine may use:
//   load seccomp_data.arch
//   for each known arch: if arch matches, load seccomp_data.nr (x86-64: without the x32 bit) and
//     return EPERM for the three key management calls, else ALLOW
//   ALLOW (an architecture not listed)

import os from 'node:os';

/** Syscall numbers of add_key, request_key and keyctl per audit architecture. */
const ARCHES: ReadonlyArray<{ name: string; audit: number; calls: readonly number[]; maskX32?: boolean }> = [
  { name: 'x86_64', audit: 0xc000003e, calls: [248, 249, 250], maskX32: true },
  { name: 'i386', audit: 0x40000003, calls: [286, 287, 288] },
  { name: 'aarch64', audit: 0xc00000b7, calls: [217, 218, 219] },
  { name: 'arm', audit: 0x40000028, calls: [309, 310, 311] },
];

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_ALU_AND_K = 0x54;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const X32_SYSCALL_BIT = 0x40000000;
/** Offsets in struct seccomp_data. */
const NR = 0;
const ARCH = 4;

interface Insn {
  code: number;
  k: number;
  /** Jump targets by label, resolved when assembling. */
  jt?: string;
  jf?: string;
  label?: string;
}

/** The filter as bwrap reads it: an array of struct sock_filter (8 bytes each, in the host's byte order). */
export function keyringSeccompFilter(): Buffer {
  const prog: Insn[] = [{ code: BPF_LD_W_ABS, k: ARCH }];
  for (const a of ARCHES) {
    prog.push({ code: BPF_JMP_JEQ_K, k: a.audit, jt: `${a.name}`, jf: `after-${a.name}` });
    prog.push({ code: BPF_LD_W_ABS, k: NR, label: a.name });
    if (a.maskX32) prog.push({ code: BPF_ALU_AND_K, k: ~X32_SYSCALL_BIT >>> 0 });
    for (const nr of a.calls) prog.push({ code: BPF_JMP_JEQ_K, k: nr, jt: 'deny', jf: `next-${a.name}-${nr}` }, { code: -1, k: 0, label: `next-${a.name}-${nr}` });
    prog.push({ code: BPF_RET_K, k: SECCOMP_RET_ALLOW });
    prog.push({ code: -1, k: 0, label: `after-${a.name}` });
  }
  prog.push({ code: BPF_RET_K, k: SECCOMP_RET_ALLOW });
  prog.push({ code: BPF_RET_K, k: SECCOMP_RET_ERRNO | EPERM, label: 'deny' });

  // Labels mark the next real instruction; `code: -1` entries are labels only.
  const real: Insn[] = [];
  const at = new Map<string, number>();
  for (const insn of prog) {
    if (insn.label) at.set(insn.label, real.length);
    if (insn.code !== -1) real.push(insn);
  }
  const out = Buffer.alloc(real.length * 8);
  const le = os.endianness() === 'LE';
  real.forEach((insn, i) => {
    const rel = (label: string | undefined) => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined || target <= i || target - i - 1 > 255) throw new Error(`seccomp: bad jump to ${label}`);
      return target - i - 1;
    };
    if (le) out.writeUInt16LE(insn.code, i * 8);
    else out.writeUInt16BE(insn.code, i * 8);
    out.writeUInt8(rel(insn.jt), i * 8 + 2);
    out.writeUInt8(rel(insn.jf), i * 8 + 3);
    if (le) out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
    else out.writeUInt32BE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}
