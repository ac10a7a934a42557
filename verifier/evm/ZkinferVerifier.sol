// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.19;

/// @title zkinfer on-chain verifier for halo2 proofs (KZG on BN254, SHPLONK, Keccak transcript).
/// @notice The code is the same for every model. The model's verifying key is data held by a
/// separate contract that the constructor deploys (its code is a STOP byte, then the data).
/// Call it with calldata = the public values (one 32-byte big-endian word each: the inputs, then
/// the outputs), then the proof bytes. It returns the word 1 when the proof is valid for those
/// public values and reverts otherwise. The one exception is the 4-byte call `vkDigest()`.
///
/// `vkDigest()` returns the verifying key's digest: halo2's transcript representation of the
/// key, the first value the transcript absorbs. It commits to the fixed columns (the model's
/// weights and tables), the permutation and the constraint system; compare it with the digest
/// `zkinfer verify --model DIR` computes from the compiled model.
contract ZkinferVerifier {
    /// @notice The contract whose code holds this verifier's key data. Not public: a getter
    /// would add a selector that a proof's calldata could hit (see `vkDigest`).
    address internal immutable KEY;

    constructor(bytes memory keyData) {
        require(keyData.length > 0 && keyData.length < 24576, "key data size");
        // Init code that returns (0x00 ‖ keyData) as the new contract's code.
        bytes memory init = abi.encodePacked(
            hex"61", uint16(keyData.length + 1), hex"80600c6000396000f3", hex"00", keyData
        );
        address key;
        assembly {
            key := create(0, add(init, 32), mload(init))
        }
        require(key != address(0), "key deployment failed");
        KEY = key;
    }

    /// @notice The verifying key's digest (key-data header word 6), as a 32-byte big-endian
    /// field element: the value the proof transcript starts from.
    /// @dev This is the contract's only selector, 0x648a89ea = bytes4(keccak256("vkDigest()")),
    /// and two rules keep it from touching proof calls:
    /// - Proof calldata starts with a public value, a canonical field element below
    ///   r = 0x30644e72e131a029..., so its first four bytes are at most 0x30644e72. A selector
    ///   above that can never divert a valid proof from the fallback. (A name with a lower
    ///   selector, such as `verifyingKeyDigest()` = 0x0954e70b, could: it would make the proofs
    ///   of some inputs unverifiable. Keep this property if you ever add a function.)
    /// - Only the exact 4-byte call answers; longer calldata that starts with the selector
    ///   reverts, so a call of proof length succeeds only for a valid proof, as the fallback
    ///   promises, even for a caller that checks success but not the returned word.
    function vkDigest() external view returns (bytes32 digest) {
        address key = KEY;
        assembly {
            if iszero(eq(calldatasize(), 4)) { revert(0, 0) }
            // Key contract code = 0x00 ‖ key data; header word 6 is at code offset 1 + 6·32.
            extcodecopy(key, 0x00, 193, 32)
            digest := mload(0x00)
        }
    }

    fallback(bytes calldata) external returns (bytes memory) {
        address key = KEY;
        assembly {
            // Memory map (bytes). The key data is copied to 0x2000; the transcript buffer
            // follows it.
            // 0x080 precompile scratch (12 words)   0x200 MSM accumulator (x, y)
            // 0x240 theta  0x260 beta   0x280 gamma  0x2a0 y      0x2c0 x      0x2e0 x^n
            // 0x300 l_0    0x320 l_last 0x340 l_blind 0x360 public-value column eval
            // 0x380 expected quotient eval 0x3a0 y' 0x3c0 v  0x3e0 u  0x400 1/x
            // 0x420 transcript state 0x440 r_outer 0x460 z_0 0x480 1/z_diff_0 0x4a0 v^i
            // 0x4c0 transcript buffer address 0x4e0 β·x·δ^c in the permutation argument
            // 0x000 the permutation column counter
            // 0x500.. u - point_k (128 words)  0x1500.. Lagrange basis (8 words)
            // 0x1600.. constraint program stack (64 words)

            function fail() {
                revert(0, 0)
            }

            // Header word i of the key data.
            function hd(i) -> v {
                v := mload(add(0x2000, mul(i, 32)))
            }

            function inv(a) -> out {
                mstore(0x80, 32)
                mstore(0xa0, 32)
                mstore(0xc0, 32)
                mstore(0xe0, a)
                mstore(0x100, 21888242871839275222246405745257275088548364400416034343698204186575808495615)
                mstore(0x120, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
                if iszero(staticcall(gas(), 0x05, 0x80, 0xc0, 0x80, 0x20)) { fail() }
                out := mload(0x80)
            }

            // Keccak of (state ‖ calldata[start, end)), or (state ‖ 0x01) for an empty range;
            // the hash becomes the state and, reduced mod R, the challenge.
            function squeeze(start, end) -> c {
                let buf := mload(0x4c0)
                mstore(buf, mload(0x420))
                let len := sub(end, start)
                switch len
                case 0 {
                    mstore8(add(buf, 32), 1)
                    len := 1
                }
                default {
                    calldatacopy(add(buf, 32), start, len)
                }
                let h := keccak256(buf, add(32, len))
                mstore(0x420, h)
                c := mod(h, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
            }

            function checkPoints(start, end) {
                let p := 21888242871839275222246405745257275088696311157297823662689037894645226208583
                for { let o := start } lt(o, end) { o := add(o, 64) } {
                    let x := calldataload(o)
                    let y := calldataload(add(o, 32))
                    if iszero(and(lt(x, p), lt(y, p))) { fail() }
                    if iszero(eq(mulmod(y, y, p), addmod(mulmod(mulmod(x, x, p), x, p), 3, p))) { fail() }
                }
            }

            function checkScalars(start, end) {
                for { let o := start } lt(o, end) { o := add(o, 32) } {
                    if iszero(lt(calldataload(o), 21888242871839275222246405745257275088548364400416034343698204186575808495617)) { fail() }
                }
            }

            // The 4-byte big-endian word at p.
            function u32at(p) -> v {
                v := shr(224, mload(p))
            }

            // An evaluation reference (4 bytes: kind, then a 24-bit offset): kind 0 = calldata
            // offset, 1 = the expected quotient evaluation, 2 = the public-value column's
            // evaluation.
            function evalRef(ref) -> v {
                switch shr(24, ref)
                case 0 { v := calldataload(and(ref, 0xffffff)) }
                case 1 { v := mload(0x380) }
                default { v := mload(0x360) }
            }

            function fold(acc, e) -> out {
                out := addmod(mulmod(acc, mload(0x2a0), 21888242871839275222246405745257275088548364400416034343698204186575808495617), e, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
            }

            // 1 - (l_last + l_blind): the rows where the argument's products are constrained.
            function activeRows() -> a {
                let R := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                a := addmod(1, sub(R, addmod(mload(0x320), mload(0x340), R)), R)
            }

            // z(ωx)·Π(v_c + β·s_c + γ) - z(x)·Π(v_c + β·δ^c·x + γ) over one set's columns.
            function permSet(at) -> diff {
                let left := calldataload(add(at, 32))
                let right := calldataload(at)
                for { let j := 0 } and(lt(j, hd(8)), lt(mload(0x00), hd(10))) { j := add(j, 1) } {
                    let c := mload(0x00)
                    let ev := evalRef(u32at(add(add(0x2000, hd(36)), mul(4, c))))
                    let s := mulr(mload(0x260), calldataload(add(hd(20), mul(32, c))))
                    left := mulr(left, addr(addr(ev, s), mload(0x280)))
                    right := mulr(right, addr(addr(ev, mload(0x4e0)), mload(0x280)))
                    mstore(0x4e0, mulr(mload(0x4e0), hd(7)))
                    mstore(0x00, add(c, 1))
                }
                diff := addr(left, sub(21888242871839275222246405745257275088548364400416034343698204186575808495617, right))
            }

            // Folds the permutation argument's constraints, as halo2 orders them.
            function permutation(acc) -> out {
                let R := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                let sets := hd(9)
                let setsAt := hd(21)
                acc := fold(acc, mulmod(mload(0x300), addmod(1, sub(R, calldataload(setsAt)), R), R))
                let zl := calldataload(add(setsAt, mul(96, sub(sets, 1))))
                acc := fold(acc, mulmod(mload(0x320), addmod(mulmod(zl, zl, R), sub(R, zl), R), R))
                for { let i := 1 } lt(i, sets) { i := add(i, 1) } {
                    let zi := calldataload(add(setsAt, mul(96, i)))
                    let prevLast := calldataload(add(setsAt, sub(mul(96, i), 32)))
                    acc := fold(acc, mulmod(mload(0x300), addmod(zi, sub(R, prevLast), R), R))
                }
                // 0x4e0: β·x·δ^c for column c; 0x00: the next column c.
                mstore(0x4e0, mulmod(mload(0x260), mload(0x2c0), R))
                mstore(0x00, 0)
                for { let i := 0 } lt(i, sets) { i := add(i, 1) } {
                    acc := fold(acc, mulmod(permSet(add(setsAt, mul(96, i))), activeRows(), R))
                }
                out := acc
            }

            // Folds the five constraints of lookup `index`, given its compressed input and table.
            function lookup(acc, index, input, table) -> out {
                let R := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                let at := add(hd(22), mul(160, index))
                let z := calldataload(at)
                let a := calldataload(add(at, 64))
                let s := calldataload(add(at, 128))
                acc := fold(acc, mulmod(mload(0x300), addmod(1, sub(R, z), R), R))
                acc := fold(acc, mulmod(mload(0x320), addmod(mulmod(z, z, R), sub(R, z), R), R))
                let left := mulmod(mulmod(calldataload(add(at, 32)), addmod(a, mload(0x260), R), R), addmod(s, mload(0x280), R), R)
                let right := mulmod(mulmod(z, addmod(input, mload(0x260), R), R), addmod(table, mload(0x280), R), R)
                acc := fold(acc, mulmod(addmod(left, sub(R, right), R), activeRows(), R))
                let as := addmod(a, sub(R, s), R)
                acc := fold(acc, mulmod(mload(0x300), as, R))
                out := fold(acc, mulmod(mulmod(as, addmod(a, sub(R, calldataload(add(at, 96))), R), R), activeRows(), R))
            }

            // Runs the constraint program; returns the folded value of every constraint.
            function constraints() -> acc {
                let R := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                let ip := add(0x2000, hd(38))
                let end := add(0x2000, hd(39))
                let sp := 0x1600
                for { } lt(ip, end) { } {
                    let code := byte(0, mload(ip))
                    ip := add(ip, 1)
                    switch code
                    case 1 {
                        mstore(sp, mload(ip))
                        sp := add(sp, 32)
                        ip := add(ip, 32)
                    }
                    case 2 {
                        mstore(sp, calldataload(shr(224, mload(ip))))
                        sp := add(sp, 32)
                        ip := add(ip, 4)
                    }
                    case 3 {
                        mstore(sp, mload(0x360))
                        sp := add(sp, 32)
                    }
                    case 4 {
                        let t := sub(sp, 32)
                        mstore(t, sub(R, mload(t)))
                    }
                    case 5 {
                        sp := sub(sp, 32)
                        let t := sub(sp, 32)
                        mstore(t, addmod(mload(t), mload(sp), R))
                    }
                    case 6 {
                        sp := sub(sp, 32)
                        let t := sub(sp, 32)
                        mstore(t, mulmod(mload(t), mload(sp), R))
                    }
                    case 7 {
                        let t := sub(sp, 32)
                        mstore(t, mulmod(mload(t), mload(ip), R))
                        ip := add(ip, 32)
                    }
                    case 8 {
                        sp := sub(sp, 32)
                        acc := fold(acc, mload(sp))
                    }
                    case 9 {
                        let t := sub(sp, 32)
                        mstore(t, mulmod(mload(t), mload(0x240), R))
                    }
                    case 10 {
                        mstore(sp, 0)
                        sp := add(sp, 32)
                    }
                    case 11 {
                        acc := permutation(acc)
                    }
                    case 12 {
                        sp := sub(sp, 64)
                        acc := lookup(acc, shr(240, mload(ip)), mload(sp), mload(add(sp, 32)))
                        ip := add(ip, 2)
                    }
                    default {
                        fail()
                    }
                    if gt(sp, 0x1e00) { fail() }
                }
            }

            // ACC += s·(px, py)
            function mulAcc(px, py, s) {
                mstore(0x80, px)
                mstore(0xa0, py)
                mstore(0xc0, s)
                if iszero(staticcall(gas(), 0x07, 0x80, 0x60, 0xc0, 0x40)) { fail() }
                mstore(0x80, mload(0x200))
                mstore(0xa0, mload(0x220))
                if iszero(staticcall(gas(), 0x06, 0x80, 0x80, 0x200, 0x40)) { fail() }
            }

            // ACC += s·C for a commitment reference (4 bytes): kind 0 = calldata offset,
            // 1 = key-data offset, 2 = the quotient commitment Σ x^{n·i}·H_i, 3 = the point at
            // infinity (nothing to add).
            function mulAccRef(ref, s) {
                let o := and(ref, 0xffffff)
                switch shr(24, ref)
                case 0 { mulAcc(calldataload(o), calldataload(add(o, 32)), s) }
                case 1 { mulAcc(mload(add(0x2000, o)), mload(add(0x2020, o)), s) }
                case 3 { }
                case 2 {
                    let h := hd(17)
                    for { let i := 0 } lt(i, hd(11)) { i := add(i, 1) } {
                        mulAcc(calldataload(add(h, mul(64, i))), calldataload(add(h, add(mul(64, i), 32))), s)
                        s := mulmod(s, mload(0x2e0), 21888242871839275222246405745257275088548364400416034343698204186575808495617)
                    }
                }
                default { fail() }
            }

            // Σ_i w_i / (x - root_i) accumulated as one fraction num/den.
            function fracAdd(num, den, w, root) -> n, d {
                let R := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                let t := addmod(mload(0x2c0), sub(R, root), R)
                n := addmod(mulmod(num, t, R), mulmod(w, den, R), R)
                d := mulmod(den, t, R)
            }

            function mulr(a, b) -> c {
                c := mulmod(a, b, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
            }

            function addr(a, b) -> c {
                c := addmod(a, b, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
            }

            // u - p_k for the k-th point index stored at `at`.
            function uMinusPoint(at) -> d {
                d := mload(add(0x500, mul(32, u32at(at))))
            }

            // Lagrange basis of a set's m points at u, into 0x1500..:
            // L_j = Π_{k≠j}(u - p_k) · x^{-(m-1)} · C_j
            function basis(idx, cs, m) {
                let xpow := 1
                for { let j := 1 } lt(j, m) { j := add(j, 1) } { xpow := mulr(xpow, mload(0x400)) }
                for { let j := 0 } lt(j, m) { j := add(j, 1) } {
                    let l := mulr(xpow, mload(add(cs, mul(32, j))))
                    for { let k := 0 } lt(k, m) { k := add(k, 1) } {
                        if iszero(eq(k, j)) { l := mulr(l, uMinusPoint(add(idx, mul(4, k)))) }
                    }
                    mstore(add(0x1500, mul(32, j)), l)
                }
            }

            // The commitments of one rotation set: adds y'^c·coef·C_c to the MSM and
            // y'^c·coef·r_c(u) to r_outer. Returns the plan pointer after them.
            function openCommitments(ptr, m, coef) -> next {
                let nc := u32at(ptr)
                ptr := add(ptr, 4)
                for { let c := 0 } lt(c, nc) { c := add(c, 1) } {
                    let cref := u32at(ptr)
                    ptr := add(ptr, 4)
                    let r := 0
                    for { let j := 0 } lt(j, m) { j := add(j, 1) } {
                        r := addr(r, mulr(evalRef(u32at(ptr)), mload(add(0x1500, mul(32, j)))))
                        ptr := add(ptr, 4)
                    }
                    mstore(0x440, addr(mload(0x440), mulr(coef, r)))
                    mulAccRef(cref, coef)
                    coef := mulr(coef, mload(0x3a0))
                }
                next := ptr
            }

            // One rotation set of the SHPLONK opening; returns the plan pointer after it.
            function openSet(ptr, i, np) -> next {
                let m := u32at(ptr)
                let mask := u32at(add(ptr, 4))
                let idx := add(ptr, 8)
                let cs := add(idx, mul(4, m))
                let zdiff := 1
                for { let k := 0 } lt(k, np) { k := add(k, 1) } {
                    if iszero(and(shr(k, mask), 1)) { zdiff := mulr(zdiff, mload(add(0x500, mul(32, k)))) }
                }
                switch i
                case 0 {
                    let z0 := 1
                    for { let j := 0 } lt(j, m) { j := add(j, 1) } { z0 := mulr(z0, uMinusPoint(add(idx, mul(4, j)))) }
                    mstore(0x460, z0)
                    mstore(0x480, inv(zdiff))
                    zdiff := 1
                }
                default { zdiff := mulr(zdiff, mload(0x480)) }
                basis(idx, cs, m)
                next := openCommitments(add(cs, mul(32, m)), m, mulr(mload(0x4a0), zdiff))
                mstore(0x4a0, mulr(mload(0x4a0), mload(0x3c0)))
            }

            // The scalar field modulus of BN254.
            let RM := 21888242871839275222246405745257275088548364400416034343698204186575808495617

            // Load the key data and check the calldata's shape.
            let keySize := extcodesize(key)
            if lt(keySize, 2) { fail() }
            extcodecopy(key, 0x2000, 1, sub(keySize, 1))
            if iszero(eq(hd(0), 1)) { fail() }
            if iszero(eq(calldatasize(), hd(25))) { fail() }
            mstore(0x4c0, add(0x2000, and(add(keySize, 31), not(31))))
            checkScalars(0, hd(14))
            checkPoints(hd(14), hd(18))
            checkScalars(hd(18), hd(23))
            checkPoints(hd(23), hd(25))

            // Transcript: the key's digest, the public values, then the proof in order.
            mstore(0x420, hd(6))
            mstore(0x240, squeeze(0, hd(15)))
            mstore(0x260, squeeze(hd(15), hd(16)))
            mstore(0x280, squeeze(hd(16), hd(16)))
            mstore(0x2a0, squeeze(hd(16), hd(17)))
            mstore(0x2c0, squeeze(hd(17), hd(18)))
            mstore(0x3a0, squeeze(hd(18), hd(23)))
            mstore(0x3c0, squeeze(hd(23), hd(23)))
            mstore(0x3e0, squeeze(hd(23), hd(24)))

            // x^n and the Lagrange values at x.
            {
                let x := mload(0x2c0)
                let xn := x
                for { let i := 0 } lt(i, hd(3)) { i := add(i, 1) } { xn := mulmod(xn, xn, RM) }
                mstore(0x2e0, xn)
                let common := mulmod(addmod(xn, sub(RM, 1), RM), hd(5), RM)
                mstore(0x300, mulmod(common, inv(addmod(x, sub(RM, 1), RM)), RM))
                // l_last at ω^{-(b+1)}, l_blind over ω^{-1} .. ω^{-b}
                let w := 1
                let num := 0
                let den := 1
                for { let i := 0 } lt(i, hd(12)) { i := add(i, 1) } {
                    w := mulmod(w, hd(13), RM)
                    num, den := fracAdd(num, den, w, w)
                }
                mstore(0x340, mulmod(common, mulmod(num, inv(den), RM), RM))
                w := mulmod(w, hd(13), RM)
                mstore(0x320, mulmod(mulmod(common, w, RM), inv(addmod(x, sub(RM, w), RM)), RM))
                // The public-value column: Σ v_i · l_i(x)
                w := 1
                num := 0
                den := 1
                for { let i := 0 } lt(i, hd(1)) { i := add(i, 1) } {
                    num, den := fracAdd(num, den, mulmod(calldataload(mul(32, i)), w, RM), w)
                    w := mulmod(w, hd(4), RM)
                }
                mstore(0x360, mulmod(common, mulmod(num, inv(den), RM), RM))
                mstore(0x400, inv(x))
            }

            // Every constraint folded with y must equal the quotient times (x^n - 1).
            mstore(0x380, mulmod(constraints(), inv(addmod(mload(0x2e0), sub(RM, 1), RM)), RM))

            // SHPLONK multi-opening.
            {
                let plan := add(0x2000, hd(37))
                let np := u32at(plan)
                let ptr := add(plan, 4)
                for { let k := 0 } lt(k, np) { k := add(k, 1) } {
                    let point := mulmod(mload(ptr), mload(0x2c0), RM)
                    mstore(add(0x500, mul(32, k)), addmod(mload(0x3e0), sub(RM, point), RM))
                    ptr := add(ptr, 32)
                }
                let ns := u32at(ptr)
                ptr := add(ptr, 4)
                mstore(0x4a0, 1)
                for { let i := 0 } lt(i, ns) { i := add(i, 1) } { ptr := openSet(ptr, i, np) }
            }
            let w1 := hd(23)
            let w2 := hd(24)
            mulAcc(hd(26), hd(27), sub(RM, mload(0x440)))
            mulAcc(calldataload(w1), calldataload(add(w1, 32)), sub(RM, mload(0x460)))
            mulAcc(calldataload(w2), calldataload(add(w2, 32)), mload(0x3e0))

            // e(W', τ·G2) · e(F, -G2) = 1
            mstore(0x80, mload(0x200))
            mstore(0xa0, mload(0x220))
            mstore(0xc0, hd(28))
            mstore(0xe0, hd(29))
            mstore(0x100, hd(30))
            mstore(0x120, hd(31))
            mstore(0x140, calldataload(w2))
            mstore(0x160, calldataload(add(w2, 32)))
            mstore(0x180, hd(32))
            mstore(0x1a0, hd(33))
            mstore(0x1c0, hd(34))
            mstore(0x1e0, hd(35))
            if iszero(staticcall(gas(), 0x08, 0x80, 0x180, 0x80, 0x20)) { fail() }
            if iszero(mload(0x80)) { fail() }
            mstore(0x00, 1)
            return(0x00, 0x20)
        }
    }
}
