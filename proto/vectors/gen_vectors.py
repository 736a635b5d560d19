#!/usr/bin/python3
"""Generates hone's golden protocol vectors (proto/PROTOCOL.md, proto/vectors/README.md).

Run with Debian's python3-msgpack, an encoder independent of hone's C codec:

    /usr/bin/python3 proto/vectors/gen_vectors.py

Writes, next to this script:
  NAME.msgpack / NAME.json   golden messages: exact bytes and their decoded form
  hostile/NAME.msgpack       frames a receiver must refuse
  hostile/manifest.txt       "NAME CODE SEQ" per hostile frame (SEQ: the seq a
                             receiver can still read from the header, or -)
Output is deterministic; rerunning it must leave git clean.
"""

import json
import math
import os
import struct
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
SIGNATURE = "HONE"
VERSION = 1
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
JSON_SAFE_INT = 2 ** 53 - 1


def pack(obj):
    # Debian 12's python3-msgpack 1.0.3 predates force_float_precision; with
    # use_single_float=False every Python float is packed as float64 (0xcb).
    return msgpack.packb(obj, use_bin_type=True, use_single_float=False, strict_types=True)


def frame(type_name, seq, body, version=VERSION, signature=SIGNATURE):
    return pack([signature, version, type_name, seq, body])


def to_json(value):
    """The vectors' JSON convention (README.md): floats, wide ints and bin are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -JSON_SAFE_INT <= value <= JSON_SAFE_INT else {"$int": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        return {"$float": repr(value)}          # shortest round-trip form, "inf", "-inf"
    if isinstance(value, bytes):
        return {"$bin": value.hex()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        for key in value:
            assert isinstance(key, str) and not key.startswith("$"), key
        return {k: to_json(v) for k, v in value.items()}
    raise TypeError(type(value))


# ---- golden messages --------------------------------------------------------------

BRANIN_CONFIG = json.dumps({
    "name": "branin",
    "parameters": [
        {"name": "x1", "bounds": [-5.0, 10.0], "parameter_type": "float"},
        {"name": "x2", "bounds": [0.0, 15.0], "parameter_type": "float"},
    ],
    "objective": "-branin",
    "generation_strategy": {"method": "random_search", "initialization_random_seed": 1},
    "max_trials": 40,
}, separators=(",", ":"))

TRAINING_PARAMS = {"learning_rate": 0.0031622776601683794, "layers": 4, "batch_size": 64,
                   "optimizer": "adam", "dropout": 0.2}


STOP_REASON = ("percentile strategy: Trial objective value 0.9375 at progression 200 is worse than the "
               "50.0-th percentile (0.5) across 6 comparable trials (lower is better).")


def trial_object(index, status, params, note, metrics=None, progression=None, reason=None):
    obj = {"trial": index, "status": status, "params": params, "note": note}
    if reason is not None:
        obj["reason"] = reason
    if metrics is not None:
        obj["metrics"] = metrics
    if progression is not None:
        obj["progression"] = progression
    return obj


GOLDEN = [
    # worker role
    ("ready", "ready", 1, {"experiment": "training", "worker": "gpu-node-07/3"}),
    ("ready_anonymous", "ready", 2, {"experiment": "branin"}),
    ("trial", "trial", 1, {"experiment": "training", "trial": 12, "params": TRAINING_PARAMS,
                           "note": "sobol"}),
    ("no_work_retry", "no_work", 2, {"retry_ms": 1000, "done": False,
                                     "reason": "waiting for running trials to finish"}),
    ("no_work_done", "no_work", 3, {"retry_ms": 0, "done": True,
                                    "reason": "max_trials (40) reached"}),
    ("progress", "progress", 7, {"experiment": "training", "trial": 12,
                                 "metrics": {"loss": [0.4375, 0.0125], "accuracy": 0.8125},
                                 "progression": 200}),
    ("progress_no_step", "progress", 8, {"experiment": "training", "trial": 12,
                                         "metrics": {"loss": 0.40625}}),
    ("complete", "complete", 9, {"experiment": "training", "trial": 12,
                                 "metrics": {"loss": [0.25, None], "accuracy": [0.90625, 0.01]},
                                 "progression": 1000}),
    ("complete_bare", "complete", 10, {"experiment": "branin", "trial": 3}),
    ("fail", "fail", 11, {"experiment": "training", "trial": 13,
                          "reason": "CUDA out of memory (exit status 137)"}),
    ("heartbeat_running", "heartbeat", 12, {"trial": 12}),
    ("heartbeat_reply", "heartbeat", 12, {}),
    # worker role with leases (PROTOCOL.md 6): what current peers send; the vectors above
    # without `lease` are what older peers send
    ("trial_lease", "trial", 1, {"experiment": "training", "trial": 12, "params": TRAINING_PARAMS,
                                 "note": "sobol", "lease": 2, "heartbeat_ms": 1000}),
    ("progress_lease", "progress", 7, {"experiment": "training", "trial": 12, "lease": 2,
                                       "metrics": {"loss": [0.4375, 0.0125], "accuracy": 0.8125},
                                       "progression": 200}),
    ("complete_lease", "complete", 9, {"experiment": "training", "trial": 12, "lease": 2,
                                       "metrics": {"loss": [0.25, None], "accuracy": [0.90625, 0.01]},
                                       "progression": 1000}),
    ("fail_lease", "fail", 11, {"experiment": "training", "trial": 13, "lease": 1,
                                "reason": "CUDA out of memory (exit status 137)"}),
    ("heartbeat_lease", "heartbeat", 12, {"experiment": "training", "trial": 12, "lease": 2}),
    # early stopping (PROTOCOL.md 4.6.4, 6.8): the broker's stop in the reply to a reading,
    # repeated in every heartbeat reply until the worker acknowledges it with complete/fail
    ("ok_stop", "ok", 7, {"stop": True, "reason": STOP_REASON}),
    ("heartbeat_stop", "heartbeat", 12, {"stop": True, "reason": STOP_REASON}),
    ("ok_stop_ack", "ok", 9, {"status": "EARLY_STOPPED", "reason": STOP_REASON}),
    # client role
    ("create", "create", 1, {"config": BRANIN_CONFIG}),
    ("next", "next", 2, {"experiment": "branin", "count": 2}),
    ("attach", "attach", 3, {"experiment": "branin", "trial": 0,
                             "metrics": {"branin": [55.602112642270264, 0.5]}}),
    ("mark", "mark", 4, {"experiment": "branin", "trial": 1, "status": "COMPLETED",
                         "metrics": {"branin": 10.960889035651505}}),
    ("mark_abandoned", "mark", 5, {"experiment": "branin", "trial": 2, "status": "ABANDONED",
                                   "reason": "node lost"}),
    ("best", "best", 6, {"experiment": "branin"}),
    ("status", "status", 7, {"experiment": "branin"}),
    ("list", "list", 8, {"experiment": "branin"}),
    ("list_curves", "list", 8, {"experiment": "training", "trial": 12, "curves": True}),
    ("should_stop", "should_stop", 10, {"experiment": "training", "trial": 12}),
    # several goals (PROTOCOL.md 4.7.10, 4.7.11): the Pareto frontier, the baseline
    ("pareto", "pareto", 11, {"experiment": "tradeoff", "use_model": False}),
    ("attach_baseline", "attach_baseline", 12, {"experiment": "tradeoff",
                                                "params": {"x1": 0.5, "x2": 0.25}}),
    ("predict", "predict", 9, {"experiment": "branin", "points": [
        {"x1": 2.5, "x2": 7.5},
        {"x1": -3.0, "x2": 12.25},
    ]}),
    ("predict_metric", "predict", 13, {"experiment": "tradeoff", "points": [{"x1": 0.5, "x2": 0.25}],
                                       "metric": "c"}),
    # replies
    ("ok_empty", "ok", 7, {}),
    ("ok_status_change", "ok", 9, {"status": "COMPLETED"}),
    ("ok_create", "ok", 1, {"experiment": "branin", "seed": 1}),
    ("ok_next", "ok", 2, {"trials": [
        trial_object(0, "RUNNING", {"x1": 2.5, "x2": 7.5}, "center"),
        trial_object(1, "RUNNING", {"x1": -1.7512136697769165, "x2": 11.640480756759644}, "sobol"),
    ]}),
    ("ok_best", "ok", 6, {"trial": 1, "params": {"x1": -1.7512136697769165, "x2": 11.640480756759644},
                          "metric": "branin", "value": 10.960889035651505, "sem": None,
                          "minimize": True, "source": "raw"}),
    ("ok_status", "ok", 7, {"experiment": "branin", "objective": "-branin", "method": "random_search",
                            "max_trials": 40,
                            "counts": {"RUNNING": 0, "COMPLETED": 2, "FAILED": 0, "ABANDONED": 1,
                                       "EARLY_STOPPED": 0},
                            "total": 3, "best": {"trial": 1, "value": 10.960889035651505}}),
    ("ok_status_leases", "ok", 7, {"experiment": "training", "objective": "-loss", "method": "fast",
                                   "max_trials": 100,
                                   "counts": {"RUNNING": 2, "COMPLETED": 40, "FAILED": 1, "ABANDONED": 0,
                                              "EARLY_STOPPED": 3, "STALE": 1},
                                   "total": 47, "best": {"trial": 31, "value": 0.1875},
                                   "leases": {"heartbeat_ms": 1000, "liveness": 3, "max_retries": 3},
                                   "leases_expired": 5, "retries": 4,
                                   "workers": [
                                       {"worker": "gpu-node-07/3", "last_seen_ms": 420, "trial": 46,
                                        "lease": 1, "lease_age_ms": 61250},
                                       {"worker": "gpu-node-02/0", "last_seen_ms": 800, "trial": 12,
                                        "lease": 2, "lease_age_ms": 5125},
                                       {"worker": "gpu-node-05/1", "last_seen_ms": 2250}],
                                   "workers_total": 3}),
    ("ok_list", "ok", 8, {"trials": [
        trial_object(0, "COMPLETED", {"x1": 2.5, "x2": 7.5}, "center",
                     metrics={"branin": [55.602112642270264, 0.5]}),
        trial_object(1, "COMPLETED", {"x1": -1.7512136697769165, "x2": 11.640480756759644}, "sobol",
                     metrics={"branin": [10.960889035651505, None]}),
        trial_object(2, "ABANDONED", {"x1": 8.25, "x2": 0.75}, "sobol", reason="node lost"),
        trial_object(3, "EARLY_STOPPED", {"x1": 0.5, "x2": 3.0}, "sobol",
                     metrics={"branin": [20.5, None]}, progression=30),
    ]}),
    ("ok_list_curves", "ok", 8, {"trials": [dict(
        trial_object(12, "EARLY_STOPPED", TRAINING_PARAMS, "sobol", reason=STOP_REASON),
        worker="gpu-node-07/3",
        metrics={"loss": [0.9375, 0.0125], "accuracy": [0.5625, None]},
        progression=200,
        attempts=[{"worker": "gpu-node-07/3", "start": 1740823800000, "end": 1740823921250,
                   "outcome": "early stopped"}],
        curves={"loss": [[100, 1.0, 0.025], [200, 0.9375, 0.0125]],
                "accuracy": [[100, 0.5, None], [200, 0.5625, None]]})]}),
    ("ok_should_stop", "ok", 10, {"stop": False, "reason": "Trial objective value 0.4375 at progression 200 is "
                                  "not worse than the 50.0-th percentile (0.5) across 6 comparable trials "
                                  "(lower is better)."}),
    ("ok_predict", "ok", 9, {"predictions": [
        {"mean": 55.58720124781904, "sem": 0.4971051178123394},
        {"mean": 17.308617391304345, "sem": 9.618720588235295},
    ], "metric": "branin"}),
    ("ok_predict_metric", "ok", 13, {"predictions": [{"mean": 3.25, "sem": 0.5}], "metric": "c"}),
    ("ok_pareto", "ok", 11, {"source": "raw", "objectives": ["a", "b"], "minimize": [True, True],
                             "ref": [10.0, 4.5], "ref_inferred": True, "hypervolume": 22.5,
                             "points": [
                                 {"trial": 1, "params": {"x1": 0.125, "x2": 0.75}, "values": [4.0, 1.5],
                                  "sems": [0.25, None], "contribution": 4.5},
                                 {"trial": 0, "params": {"x1": 0.5, "x2": 0.5}, "values": [2.0, 3.0],
                                  "sems": [None, None], "contribution": 3.0},
                                 {"trial": 3, "params": {"x1": 0.875, "x2": 0.0}, "values": [7.0, 1.0],
                                  "sems": [None, None], "contribution": 1.5},
                             ]}),
    ("ok_attach_baseline", "ok", 12, {"trial": 4}),
    ("error_not_found", "error", 1, {"code": -3, "name": "HONE_ENOTFOUND",
                                     "message": "unknown experiment 'brannin'"}),
    ("error_version", "error", 77, {"code": -7, "name": "HONE_EVERSION",
                                    "message": "protocol version 99 not supported (this peer speaks 1)"}),
    ("error_state", "error", 7, {"code": -5, "name": "HONE_ESTATE",
                                 "message": "trial 12 is COMPLETED, not RUNNING"}),
    ("error_lease", "error", 9, {"code": -20, "name": "HONE_ELEASE",
                                 "message": "lease 1 of trial training#12 expired at 2025-03-01T10:15:02.250Z "
                                            "(no word from worker 'gpu-node-07/3' for 3000 ms); the trial was "
                                            "re-queued and runs again under lease 2; this report changed nothing"}),
    ("error_data", "error", 9, {"code": -16, "name": "HONE_EDATA",
                                "message": "the model needs at least 2 COMPLETED or EARLY_STOPPED trials with data for the "
                                           "objective (1 so far)"}),
    # edge cases
    ("edge_params_all_types", "trial", 21, {
        "experiment": "édition-été",
        "trial": 0,
        "params": {"lr": 1e-05, "momentum": -0.0, "width": 0.5, "layers": 8, "offset": -3,
                   "seed": 4294967296, "optimizer": "rmsprop", "tag": "", "name": "naïve ✓ 模型",
                   "use_bn": True, "frozen": False},
        "note": "manual",
        "x_future": {"nil": None, "bin": b"\x00\x01\xfe\xff", "empty_bin": b"", "list": [1, 2.5, "three", [], {}],
                     "nested": {"a": {"b": {"c": [True, None]}}}},
    }),
    ("edge_metrics_nil_sem", "complete", 22, {"experiment": "training", "trial": 5, "metrics": {
        "loss": [0.25, None], "accuracy": 0.75, "f1": [0.5, 0.0], "latency_ms": [12, 1]}}),
    ("edge_int_forms", "heartbeat", 23, {"ints": [
        0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, JSON_SAFE_INT,
        JSON_SAFE_INT + 1, INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, -2147483648,
        -2147483649, -JSON_SAFE_INT - 1, INT64_MIN]}),
    ("edge_float_forms", "heartbeat", 24, {"floats": [
        0.0, -0.0, 1.0, -2.5, 0.1, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e+308,
        1e+16, 123456789.125, math.inf, -math.inf, math.nan]}),
    ("edge_str_forms", "heartbeat", 25, {"fixstr31": "a" * 31, "str8_32": "b" * 32, "str8_255": "c" * 255,
                                         "str16_256": "d" * 256, "escapes": "tab\there \"quoted\" back\\slash\nnew line \x01",
                                         "bin8": bytes(range(256))[:255], "bin16": bytes(range(256))}),
    ("edge_str_limit", "heartbeat", 26, {"str32_at_limit": "e" * 65536}),
    ("edge_map16", "heartbeat", 27, {"counts": {"m%02d" % i: i for i in range(20)}}),
    ("edge_seq_max", "heartbeat", 2 ** 64 - 1, {}),
    ("edge_seq_zero", "ok", 0, {}),
    # depth 16 in all: header array (1) > body (2) > 14 nested arrays (16)
    ("edge_depth_limit", "heartbeat", 28, {"deep": [[[[[[[[[[[[[["bottom"]]]]]]]]]]]]]]}),
]


# ---- hostile frames ---------------------------------------------------------------

def header_bytes(type_name, seq, version=VERSION, count=5):
    out = b""
    if count <= 15:
        out += bytes([0x90 | count])
    else:
        out += b"\xdc" + struct.pack(">H", count)
    return out + pack(SIGNATURE) + pack(version) + pack(type_name) + pack(seq)


def nested_arrays(n):
    return b"\x91" * n + b"\xc0"


def hostile():
    ready = frame("ready", 5, {"experiment": "branin", "worker": "w1"})
    items = []

    def add(name, code, seq, data):
        items.append((name, code, seq, data))

    add("empty", "HONE_EPROTO", None, b"")
    add("not_an_array", "HONE_EPROTO", None, pack({"type": "ready"}))
    add("array32_huge_count", "HONE_EPROTO", None, b"\xdd\xff\xff\xff\xff" + pack(SIGNATURE) + b"\x01")
    add("map32_huge_count", "HONE_EPROTO", 6, header_bytes("ready", 6) + b"\xdf\xff\xff\xff\xff\xa1k")
    add("str32_longer_than_frame", "HONE_EPROTO", 7,
        header_bytes("ready", 7) + b"\x81\xaaexperiment" + b"\xdb\x00\x00\x10\x00" + b"short")
    add("str32_huge_length", "HONE_EPROTO", 8,
        header_bytes("ready", 8) + b"\x81\xaaexperiment" + b"\xdb\xff\xff\xff\xff" + b"x")
    add("str_over_limit", "HONE_ETOOBIG", 9, frame("ready", 9, {"experiment": "x" * 65537}))
    add("nested_100", "HONE_ETOOBIG", 10, header_bytes("heartbeat", 10) + b"\x81\xa4deep" + nested_arrays(100))
    add("depth_17", "HONE_ETOOBIG", 11, header_bytes("heartbeat", 11) + b"\x81\xa4deep" + nested_arrays(15))
    add("too_many_items", "HONE_ETOOBIG", 12, frame("heartbeat", 12, {"many": [None] * 100001}))
    add("truncated_body", "HONE_EPROTO", 5, ready[:len(ready) - 4])
    add("truncated_header", "HONE_EPROTO", None, ready[:9])
    add("trailing_garbage", "HONE_EPROTO", 5, ready + b"\x00\x00")
    add("two_messages", "HONE_EPROTO", 5, ready + ready)
    add("ext_type", "HONE_EPROTO", 13, header_bytes("heartbeat", 13) + b"\x81\xa1x" + b"\xd4\x01\x00")
    add("ext32_type", "HONE_EPROTO", 14, header_bytes("heartbeat", 14) + b"\x81\xa1x" + b"\xc9\x00\x00\x00\x01\x05\x00")
    add("reserved_c1", "HONE_EPROTO", 15, header_bytes("heartbeat", 15) + b"\x81\xa1x\xc1")
    add("version_99", "HONE_EVERSION", 77, frame("ready", 77, {"experiment": "branin"}, version=99))
    add("version_99_other_layout", "HONE_EVERSION", 78,
        header_bytes("ready", 78, version=99, count=7) + pack({"future": True}) + pack(1) + pack("x"))
    add("version_0", "HONE_EVERSION", 79, frame("ready", 79, {}, version=0))
    add("wrong_signature", "HONE_EPROTO", None, frame("ready", 3, {}, signature="HONF"))
    add("signature_not_str", "HONE_EPROTO", None, pack([b"HONE", 1, "ready", 3, {}]))
    add("version_negative", "HONE_EPROTO", None, pack(["HONE", -1, "ready", 3, {}]))
    add("seq_negative", "HONE_EPROTO", None, pack(["HONE", 1, "ready", -1, {}]))
    add("seq_float", "HONE_EPROTO", None, pack(["HONE", 1, "ready", 1.0, {}]))
    add("header_short", "HONE_EPROTO", None, pack(["HONE", 1, "ready"]))
    add("header_long", "HONE_EPROTO", 16, pack(["HONE", 1, "ready", 16, {}, "extra"]))
    add("type_not_str", "HONE_EPROTO", None, pack(["HONE", 1, 3, 17, {}]))
    add("unknown_type", "HONE_EPROTO", 18, frame("teleport", 18, {"to": "mars"}))
    add("body_not_map", "HONE_EPROTO", 19, frame("ready", 19, [1, 2]))
    add("body_nil", "HONE_EPROTO", 20, frame("ready", 20, None))
    add("duplicate_keys", "HONE_EPROTO", 21,
        header_bytes("progress", 21) + b"\x83" + pack("trial") + pack(1) + pack("experiment")
        + pack("x") + pack("trial") + pack(2))
    add("duplicate_keys_nested", "HONE_EPROTO", 22,
        header_bytes("progress", 22) + b"\x81" + pack("metrics") + b"\x82" + pack("loss") + pack(1.0)
        + pack("loss") + pack(2.0))
    add("duplicate_keys_large_map", "HONE_EPROTO", 23,
        header_bytes("heartbeat", 23) + b"\xde\x00\x28"
        + b"".join(pack("k%02d" % i) + pack(i) for i in range(39)) + pack("k07") + pack(0))
    add("key_not_str", "HONE_EPROTO", 24, header_bytes("heartbeat", 24) + b"\x81\x01\xa1x")
    add("key_with_nul", "HONE_EPROTO", 25, header_bytes("heartbeat", 25) + b"\x81\xa3a\x00b\x01")
    add("int_above_int64", "HONE_EPROTO", 26, frame("progress", 26, {"trial": 2 ** 64 - 1}))
    add("reserved_c1_top", "HONE_EPROTO", None, b"\xc1")
    # found by tests/fuzz: msgpack-c gives an empty str a NULL pointer (the key checks
    # passed it to memcmp/memchr), and a key quoted in an error message must not carry
    # a newline or an escape sequence into the broker's log line and error reply
    add("duplicate_empty_keys", "HONE_EPROTO", 27,
        header_bytes("heartbeat", 27) + b"\x82" + pack("") + pack(1) + pack("") + pack(2))
    add("duplicate_keys_newline", "HONE_EPROTO", 28,
        header_bytes("heartbeat", 28) + b"\x82" + pack("a\nERROR forged\x1b[0m") + pack(1)
        + pack("a\nERROR forged\x1b[0m") + pack(2))
    # predict: a points array whose declared count the frame cannot hold, and points
    # that break the map rules or the depth limit inside the array
    predict_head = b"\x82" + pack("experiment") + pack("branin") + pack("points")
    add("predict_points_huge_count", "HONE_EPROTO", 30,
        header_bytes("predict", 30) + predict_head + b"\xdd\xff\xff\xff\xff" + b"\x80")
    add("predict_point_duplicate_keys", "HONE_EPROTO", 31,
        header_bytes("predict", 31) + predict_head + b"\x91\x82" + pack("x1") + pack(1.0)
        + pack("x1") + pack(2.0))
    add("predict_point_key_not_str", "HONE_EPROTO", 32,
        header_bytes("predict", 32) + predict_head + b"\x91\x81\x01" + pack(0.5))
    # depth 17: header 1, body 2, points 3, the point 4, 13 nested arrays
    add("predict_point_too_deep", "HONE_ETOOBIG", 33,
        header_bytes("predict", 33) + predict_head + b"\x91\x81" + pack("x1") + nested_arrays(13))
    return items


# ---- output -----------------------------------------------------------------------

def dump_json(value, indent=0):
    """JSON text: a container goes on one line when it fits, else one item per line."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (list, dict)) or not value or indent + len(flat) <= 88:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + dump_json(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k, ensure_ascii=False) + ": " + dump_json(v, indent + 2)
             for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    names = set()
    for name, type_name, seq, body in GOLDEN:
        assert name not in names, name
        names.add(name)
        data = frame(type_name, seq, body)
        assert len(data) <= 1 << 20
        write(os.path.join(HERE, name + ".msgpack"), data)
        doc = {"type": type_name, "seq": to_json(seq), "body": to_json(body)}
        text = dump_json(doc) + "\n"
        write(os.path.join(HERE, name + ".json"), text.encode("utf-8"))

    hostile_dir = os.path.join(HERE, "hostile")
    os.makedirs(hostile_dir, exist_ok=True)
    lines = ["# hostile frames: NAME CODE SEQ (SEQ: what hone_msg_decode reports in seq_out, - for nothing)"]
    for name, code, seq, data in hostile():
        write(os.path.join(hostile_dir, name + ".msgpack"), data)
        lines.append("%s %s %s" % (name, code, "-" if seq is None else seq))
    write(os.path.join(hostile_dir, "manifest.txt"), ("\n".join(lines) + "\n").encode())
    print("wrote %d golden and %d hostile vectors" % (len(GOLDEN), len(lines) - 1), file=sys.stderr)


if __name__ == "__main__":
    main()
