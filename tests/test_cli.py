import pickle

import pandas as pd
from cf_testing import FAST, frame_proba

from cfexplain import CounterfactualGAN
from cfexplain.cli import main


def test_demo_runs_on_a_sample(capsys):
    assert main(["demo", "--epochs", "1", "--rows", "2", "--sample", "600"]) == 0
    out = capsys.readouterr().out
    assert "classifier test accuracy" in out
    assert "[0] (" in out  # one line per counterfactual
    for column in ("validity", "l0_categorical", "mmd2_0"):
        assert column in out


def test_explain_command_writes_counterfactuals(tmp_path, mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    model_path = tmp_path / "explainer.pkl"
    model_path.write_bytes(pickle.dumps(cf))
    data_path = tmp_path / "rows.csv"
    mixed_frame.iloc[:5].to_csv(data_path, index=False)
    out_path = tmp_path / "out.csv"
    assert main(["explain", str(model_path), str(data_path), "-o", str(out_path)]) == 0
    result = pd.read_csv(out_path)
    assert list(result.columns) == list(mixed_frame.columns)
    assert len(result) == 5
