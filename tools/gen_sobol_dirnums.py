#!/usr/bin/python3
"""Generate core/sobol_dirnums.inc from the Joe-Kuo direction numbers.

Source: new-joe-kuo-6.21201 (Stephen Joe and Frances Y. Kuo, search criterion D(6),
21201 dimensions), as shipped by SciPy in scipy/stats/_sobol_direction_numbers.npz.
Run with the Debian python (it has numpy and scipy):

    /usr/bin/python3 tools/gen_sobol_dirnums.py [npz] [out]

The npz holds two arrays, read the way SciPy's _sobol.pyx (_initialize_v) reads them:

  poly[j]      the primitive polynomial of dimension j (0-based) as an integer with
               its leading and constant terms: x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1
               is (1 << s) | (a << 1) | 1, where a is the Joe-Kuo "a" column
               (a_1 is its most significant bit). The degree s is bit_length - 1.
               Row 0 is the first dimension: poly 1, degree 0, every m = 1.
  vinit[j, k]  the initial direction numbers m_1 .. m_s of dimension j (Joe-Kuo's
               m_i column), zero after column s. Each m_k (k = 1..s) is odd and < 2^k.

Output format (compact; decoded by core/sobol.c):

  s_sobol_poly[j]   poly[j] as above, one per dimension.
  s_sobol_mbits[]   a little-endian bit stream in 32-bit words (stream bit b is bit
                    b % 32 of word b / 32). For j = 1 .. 21200 in order and for
                    k = 2 .. s_j, it holds (m_k - 1) / 2 in k - 1 bits (low bit first).
                    m_1 is always 1 and is not stored. Dimension j therefore starts
                    at bit sum_{i<j} s_i (s_i - 1) / 2.
"""

import sys

import numpy as np

DEFAULT_NPZ = "/usr/lib/python3/dist-packages/scipy/stats/_sobol_direction_numbers.npz"
DEFAULT_OUT = "core/sobol_dirnums.inc"
MAXDIM = 21201

LICENCE = """\
 * Direction numbers: new-joe-kuo-6.21201 by Stephen Joe and Frances Y. Kuo
 * (https://web.maths.unsw.edu.au/~fkuo/sobol/), as distributed with SciPy.
 * S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
 * projections", SIAM J. Sci. Comput. 30, 2635-2654 (2008).
 *
 * Copyright (c) 2008, Frances Y. Kuo and Stephen Joe. All rights reserved.
 *
 * Redistribution and use in source and binary forms, with or without modification,
 * are permitted provided that the following conditions are met:
 *
 *   1. Redistributions of source code must retain the above copyright notice, this
 *      list of conditions and the following disclaimer.
 *   2. Redistributions in binary form must reproduce the above copyright notice,
 *      this list of conditions and the following disclaimer in the documentation
 *      and/or other materials provided with the distribution.
 *   3. Neither the names of the copyright holders nor the names of their
 *      contributors may be used to endorse or promote products derived from this
 *      software without specific prior written permission.
 *
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
 * ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
 * WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
 * DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDERS OR CONTRIBUTORS BE LIABLE FOR
 * ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
 * (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
 * LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON
 * ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
 * (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
 * SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def load(npz_path):
    data = np.load(npz_path)
    poly = [int(p) for p in data["poly"]]
    vinit = [[int(m) for m in row] for row in data["vinit"]]
    if len(poly) != MAXDIM or len(vinit) != MAXDIM:
        sys.exit(f"expected {MAXDIM} dimensions, found {len(poly)}")
    if poly[0] != 1 or vinit[0][0] != 1 or any(vinit[0][1:]):
        sys.exit("dimension 1 is not the all-ones dimension")
    for j in range(1, MAXDIM):
        p = poly[j]
        s = p.bit_length() - 1
        if s < 1 or p & 1 == 0:
            sys.exit(f"dimension {j + 1}: bad polynomial {p}")
        for k in range(1, s + 1):
            m = vinit[j][k - 1]
            if m & 1 == 0 or not 0 < m < (1 << k):
                sys.exit(f"dimension {j + 1}: m_{k} = {m} is not odd and below 2^{k}")
        if any(vinit[j][s:]):
            sys.exit(f"dimension {j + 1}: values after m_{s}")
    return poly, vinit


def pack(poly, vinit):
    bits = []  # (value, width), low bit first
    for j in range(1, MAXDIM):
        s = poly[j].bit_length() - 1
        for k in range(2, s + 1):
            bits.append(((vinit[j][k - 1] - 1) >> 1, k - 1))
    words = []
    acc = 0
    nacc = 0
    nbits = 0
    for value, width in bits:
        acc |= value << nacc
        nacc += width
        nbits += width
        while nacc >= 32:
            words.append(acc & 0xFFFFFFFF)
            acc >>= 32
            nacc -= 32
    if nacc:
        words.append(acc)
    return words, nbits


def unpack_check(poly, vinit, words):
    """Decode the stream the way core/sobol.c does and compare with the source."""
    pos = 0
    for j in range(1, MAXDIM):
        s = poly[j].bit_length() - 1
        for k in range(2, s + 1):
            w, off = divmod(pos, 32)
            v = words[w] >> off
            if off + k - 1 > 32:
                v |= words[w + 1] << (32 - off)
            v &= (1 << (k - 1)) - 1
            if 2 * v + 1 != vinit[j][k - 1]:
                sys.exit(f"round trip failed at dimension {j + 1}, m_{k}")
            pos += k - 1


def emit(out_path, poly, words, nbits):
    lines = []
    lines.append("/* sobol_dirnums.inc: Joe-Kuo Sobol direction numbers, new-joe-kuo-6.21201.")
    lines.append(" *")
    lines.append(" * GENERATED FILE, DO NOT EDIT. Regenerate with tools/gen_sobol_dirnums.py;")
    lines.append(" * that script documents the encoding, which core/sobol.c decodes.")
    lines.append(" *")
    lines.append(LICENCE.rstrip("\n"))
    lines.append(" */")
    lines.append("")
    lines.append(f"/* Primitive polynomial of each of the {len(poly)} dimensions,")
    lines.append(" * (1 << degree) | (a << 1) | 1 with Joe-Kuo's a; dimension 1 is 1. */")
    lines.append("static const uint32_t s_sobol_poly[] = {")
    per_line = 12
    for i in range(0, len(poly), per_line):
        lines.append("    " + ",".join(str(p) for p in poly[i:i + per_line]) + ",")
    lines.append("};")
    lines.append("")
    lines.append(f"/* (m_k - 1) / 2 for k = 2..degree of dimensions 2..{len(poly)}, k - 1 bits each,")
    lines.append(f" * as a little-endian bit stream: {nbits} bits in {len(words)} words. */")
    lines.append("static const uint32_t s_sobol_mbits[] = {")
    per_line = 8
    for i in range(0, len(words), per_line):
        lines.append("    " + ",".join(f"0x{w:08x}" for w in words[i:i + per_line]) + ",")
    lines.append("};")
    with open(out_path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


def main():
    npz_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_NPZ
    out_path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT
    poly, vinit = load(npz_path)
    words, nbits = pack(poly, vinit)
    unpack_check(poly, vinit, words)
    emit(out_path, poly, words, nbits)


if __name__ == "__main__":
    main()
