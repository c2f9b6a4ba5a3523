"""The face-mask split of scripts/reproduce_seed.py (issue 13, part 3): every image in exactly one part,
both classes in each part in the data set's proportion, and the same split on every call. File names
only; no image is read. Skipped where the data set is not at hand (FACEMASK_DIR)."""
import importlib.util
import pathlib

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("reproduce_seed", ROOT / "scripts" / "reproduce_seed.py")
reproduce_seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce_seed)

DATASET = reproduce_seed.DATASET
pytestmark = pytest.mark.skipif(not (DATASET / "with_mask").is_dir(), reason=f"no face-mask data set at {DATASET}")


def test_split_is_disjoint_complete_stratified_and_deterministic():
    split = reproduce_seed.facemask_split()
    everything = sorted(f"{c}/{p.name}" for c in reproduce_seed.CLASSES for p in (DATASET / c).iterdir())
    parts = {name: [path for path, _ in entries] for name, entries in split.items()}
    assert sorted(sum(parts.values(), [])) == everything  # each file once: disjoint and complete
    for entries in split.values():  # the label is the folder's
        assert all(label == reproduce_seed.CLASSES.index(pathlib.PurePath(path).parts[0]) for path, label in entries)
    totals = {label: sum(1 for path in everything if path.startswith(name + "/"))
              for label, name in enumerate(reproduce_seed.CLASSES)}
    for name, fraction in (("test", reproduce_seed.TEST_FRACTION), ("validation", reproduce_seed.VALIDATION_FRACTION)):
        for label, total in totals.items():  # stratified: each class's share, rounded
            assert sum(1 for _, l in split[name] if l == label) == round(total * fraction)
    assert reproduce_seed.facemask_split() == split
    assert reproduce_seed.facemask_split(seed=1) != split
    # The calibration images (the first ones of the training list) hold both classes.
    assert {label for _, label in split["train"][:reproduce_seed.CALIBRATION]} == {0, 1}
