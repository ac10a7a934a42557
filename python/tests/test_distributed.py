"""Chunked proving on a local Ray cluster with two worker nodes: the bundle verifies, a
worker killed while the chunks are being proved changes nothing (Ray retries its task), and
a bundle with one chunk proof from another input is refused."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import zkinfer
import zkinfer.distributed as dist

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ops"
MLP = FIXTURES / "torch_mlp"

if os.environ.get("ZKINFER_REQUIRE_RAY") == "1":
    import ray  # noqa: F401  (CI installs ray: a missing one is a failure, not a skip)
else:
    ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def chunked(tmp_path_factory):
    out = tmp_path_factory.mktemp("chunked")
    calib = np.asarray(json.loads((MLP / "input.json").read_text())["input_data"]).reshape(-1, 1, 6)
    zkinfer.compile(MLP / "model.onnx", calib, out)
    manifest = dist.chunk(out, chunks=3)
    assert len(manifest["chunks"]) == 3
    dist.setup(out, insecure_test_srs=True)
    return out


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    workers = [c.add_node(num_cpus=1) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address)
    yield c, workers
    ray.shutdown()
    c.shutdown()


def test_ray_proves_a_chunked_model_and_survives_a_killed_worker(chunked, cluster):
    c, workers = cluster
    x = np.asarray(json.loads((MLP / "input.json").read_text())["input_data"][0]).reshape(1, 6)
    killed = []

    def kill_one(refs):
        # Every chunk is submitted; take one worker node away while they run.
        c.remove_node(workers[0], allow_graceful=False)
        killed.append(len(refs))

    bundle = dist.prove(chunked, x, on_submitted=kill_one)
    assert killed == [3]
    assert len(bundle["chunks"]) == 3
    report = dist.verify(chunked, bundle)
    assert report["verified"] and report["chunks"] == 3
    np.testing.assert_array_equal(
        np.asarray(report["output"]["ints"]),
        np.asarray(zkinfer.run(chunked, x) * 2 ** report["output"]["scale"]).ravel().round().astype(int),
    )
    # One chunk proof from another input: each proof is valid, the link is not.
    other = dist.prove(chunked, x * 0.5)
    mixed = dict(bundle, chunks=[bundle["chunks"][0], other["chunks"][1], bundle["chunks"][2]])
    with pytest.raises(zkinfer.VerificationError, match="link 0"):
        dist.verify(chunked, mixed)
