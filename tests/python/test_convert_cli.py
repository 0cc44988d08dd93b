"""`torch2keras convert` / `verify` and the Python API `convert`, `convert_file`, as a user
runs them (DESIGN.md 2.1 and 2.2)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import torch2keras

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BAD_SOURCE = "x = 1\nif x\n    pass\n"


def run_cli(*args, cwd=None):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "torch2keras", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


@pytest.fixture
def simple_conv(tmp_path):
    path = tmp_path / "simple_conv.py"
    shutil.copy(EXAMPLES / "simple_conv.py", path)
    return path


def files_under(folder):
    return sorted(
        str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file()
    )


def assert_converted_simple_conv(text):
    assert (
        "class SimpleConv(keras.Model)" in text
        or "class SimpleConv(keras.layers.Layer)" in text
    ), text
    assert "def call(" in text
    assert "def load_torch_state_dict(" in text
    compile(text, "<generated>", "exec")  # valid Python
    imports = [
        line.split()[1]
        for line in text.splitlines()
        if line.startswith(("import ", "from "))
    ]
    assert not [
        m for m in imports if m.split(".")[0] in ("torch", "torch2keras")
    ], imports


# --------------------------------------------------------------------------- convert


def test_convert_one_file_to_named_output(simple_conv, tmp_path):
    out = tmp_path / "out" / "converted.py"
    r = run_cli("convert", simple_conv, "-o", out)
    assert r.returncode == 0, r.stderr
    assert_converted_simple_conv(out.read_text())


def test_default_output_is_stem_keras_beside_the_input(simple_conv, tmp_path):
    r = run_cli("convert", simple_conv)
    assert r.returncode == 0, r.stderr
    assert files_under(tmp_path) == ["simple_conv.py", "simple_conv_keras.py"]
    assert_converted_simple_conv((tmp_path / "simple_conv_keras.py").read_text())


def test_refuses_to_overwrite_the_input(simple_conv):
    before = simple_conv.read_bytes()
    r = run_cli("convert", simple_conv, "-o", simple_conv)
    assert r.returncode == 2
    assert "input" in r.stderr and str(simple_conv) in r.stderr
    assert simple_conv.read_bytes() == before


def test_existing_output_needs_force(simple_conv, tmp_path):
    out = tmp_path / "simple_conv_keras.py"
    out.write_text("sentinel\n")
    r = run_cli("convert", simple_conv)
    assert r.returncode == 2
    assert "--force" in r.stderr and str(out) in r.stderr
    assert out.read_text() == "sentinel\n"
    r = run_cli("convert", simple_conv, "--force")
    assert r.returncode == 0, r.stderr
    assert_converted_simple_conv(out.read_text())


def test_syntax_error_exit_1_writes_nothing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_SOURCE)
    r = run_cli("convert", bad)
    assert r.returncode == 1
    assert f"{bad}:2:5: error:" in r.stderr
    assert "[T2K001]" in r.stderr
    assert files_under(tmp_path) == ["bad.py"]


def test_missing_input_exit_2(tmp_path):
    missing = tmp_path / "nothere.py"
    r = run_cli("convert", missing)
    assert r.returncode == 2
    assert (
        f"{missing}: error: cannot read input: No such file or directory [T2K006]"
        in r.stderr
    )
    assert files_under(tmp_path) == []


def test_check_writes_nothing(simple_conv, tmp_path):
    r = run_cli("convert", simple_conv, "--check")
    assert r.returncode == 0, r.stderr
    assert files_under(tmp_path) == ["simple_conv.py"]
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_SOURCE)
    r = run_cli("convert", bad, "--check")
    assert r.returncode == 1 and "error:" in r.stderr
    assert files_under(tmp_path) == ["bad.py", "simple_conv.py"]


def test_report_is_json_listing_each_file(simple_conv, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_SOURCE)
    report = tmp_path / "report.json"
    r = run_cli("convert", simple_conv, bad, "-o", tmp_path / "out", "--report", report)
    assert r.returncode == 1
    data = json.loads(report.read_text())
    entries = {Path(e["input"]).name: e for e in data["files"]}
    assert sorted(entries) == ["bad.py", "simple_conv.py"]
    assert entries["simple_conv.py"]["output"] == str(
        tmp_path / "out" / "simple_conv.py"
    )
    assert not [
        d for d in entries["simple_conv.py"]["diagnostics"] if d["severity"] == "error"
    ]
    [error] = [d for d in entries["bad.py"]["diagnostics"] if d["severity"] == "error"]
    assert (error["code"], error["line"], error["col"]) == ("T2K001", 2, 5)
    assert files_under(tmp_path / "out") == ["simple_conv.py"]  # nothing for bad.py


def test_directory_input_mirrors_the_layout(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLES / "simple_conv.py", pkg / "simple_conv.py")
    shutil.copy(EXAMPLES / "conv_block.py", pkg / "sub" / "conv_block.py")
    (pkg / "__init__.py").write_text("")
    r = run_cli("convert", pkg)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "pkg_keras"
    assert files_under(out) == ["__init__.py", "simple_conv.py", "sub/conv_block.py"]
    assert_converted_simple_conv((out / "simple_conv.py").read_text())
    assert "class ConvBlock(" in (out / "sub" / "conv_block.py").read_text()

    r = run_cli("convert", pkg, "-o", tmp_path / "elsewhere")
    assert r.returncode == 0, r.stderr
    assert files_under(tmp_path / "elsewhere") == files_under(out)


def test_several_inputs_need_an_output_folder(simple_conv, tmp_path):
    other = tmp_path / "conv_block.py"
    shutil.copy(EXAMPLES / "conv_block.py", other)
    r = run_cli("convert", simple_conv, other)
    assert r.returncode == 2 and "-o" in r.stderr
    r = run_cli("convert", simple_conv, other, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert files_under(tmp_path / "out") == ["conv_block.py", "simple_conv.py"]


def test_invalid_layout_is_a_usage_error(simple_conv):
    r = run_cli("convert", simple_conv, "--layout", "nhwc")
    assert r.returncode == 2


# ---------------------------------------------------------------------------- verify


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_verify_simple_conv(layout):
    r = run_cli(
        "verify",
        EXAMPLES / "simple_conv.py",
        "--model",
        "SimpleConv()",
        "--input-shape",
        "2,3,12,12",  # 16x16 with 16 filters trips a TF oneDNN bug in channels_first (README)
        "--layout",
        layout,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "(2, 16, 12, 12)" in r.stdout
    assert r.stdout.rstrip().endswith("OK")


def test_verify_unknown_model_expression_is_a_usage_error():
    r = run_cli(
        "verify",
        EXAMPLES / "simple_conv.py",
        "--model",
        "NoSuchModel()",
        "--input-shape",
        "2,3,12,12",  # 16x16 with 16 filters trips a TF oneDNN bug in channels_first (README)
    )
    assert r.returncode == 2
    assert "NoSuchModel" in r.stderr


MASKED_TAGGER = """
import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 8)
        self.fc = nn.Linear(8, 3)

    def forward(self, ids, keep):
        return torch.where(keep.unsqueeze(-1), self.fc(self.emb(ids)), 0.0)
"""


def test_verify_inputs_of_several_dtypes(tmp_path):
    # Token ids over the whole table (--int-high) and a boolean mask.
    src = tmp_path / "tagger.py"
    src.write_text(MASKED_TAGGER)
    r = run_cli("verify", src, "--model", "Tagger()", "--input-shape", "2,5", "--input-dtype", "int64",
                "--input-shape", "2,5", "--input-dtype", "bool", "--int-high", "40", "--compiled")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("OK")
    r = run_cli("verify", src, "--model", "Tagger()", "--input-shape", "2,5", "--input-shape", "2,5",
                "--input-dtype", "int64", "--input-dtype", "bool", "--input-dtype", "bool")
    assert r.returncode == 2
    assert "3 input dtypes for 2 input shapes" in r.stderr


# -------------------------------------------------------------------------- Python API


def test_api_convert():
    result = torch2keras.convert(
        (EXAMPLES / "simple_conv.py").read_text(), filename="s.py"
    )
    assert result.ok
    assert_converted_simple_conv(result.code)


def test_api_convert_reports_syntax_errors_as_diagnostics():
    result = torch2keras.convert(BAD_SOURCE, filename="bad.py")
    assert not result.ok
    assert result.code == ""
    [d] = [d for d in result.diagnostics if d.severity == "error"]
    assert (d.code, d.filename, d.line, d.col) == ("T2K001", "bad.py", 2, 5)
    assert d.rendered.startswith("bad.py:2:5: error: expected ':' [T2K001]")


def test_api_rejects_unknown_options():
    with pytest.raises(ValueError, match="layout"):
        torch2keras.convert("x = 1\n", layout="nhwc")
    with pytest.raises(ValueError, match="io_layout"):
        torch2keras.convert("x = 1\n", io_layout="channels_last")


def test_api_convert_file(simple_conv, tmp_path):
    result = torch2keras.convert_file(simple_conv)
    assert result.ok
    out = tmp_path / "simple_conv_keras.py"
    assert out.read_text() == result.code
    with pytest.raises(FileExistsError):
        torch2keras.convert_file(simple_conv)
    assert torch2keras.convert_file(simple_conv, force=True).ok
    with pytest.raises(ValueError, match="input"):
        torch2keras.convert_file(simple_conv, simple_conv, force=True)
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_SOURCE)
    assert not torch2keras.convert_file(bad).ok
    assert not (tmp_path / "bad_keras.py").exists()


def test_explain_layout_names_each_transpose_kept_and_why(tmp_path):
    # simple_conv with --io-layout torch keeps one transpose per image input and
    # output; --explain-layout says so (T2K109 notes), --report lists them, and
    # without the flag nothing is printed.
    src = tmp_path / "flat.py"
    src.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 3, stride=2)\n"
        "        self.fc = nn.Linear(36, 2)\n\n"
        "    def forward(self, x):\n"
        "        return self.fc(torch.flatten(self.conv(x), 1))\n"
    )
    quiet = run_cli("convert", src, "-o", tmp_path / "a.py")
    assert quiet.returncode == 0 and "T2K109" not in quiet.stderr
    report = tmp_path / "report.json"
    r = run_cli("convert", src, "-o", tmp_path / "b.py", "--explain-layout", "--report", report)
    assert r.returncode == 0
    notes = sorted((line for line in r.stderr.splitlines() if "[T2K109]" in line),
                   key=lambda line: int(line.split("flat.py:")[1].split(":")[0]))
    assert len(notes) == 2, r.stderr
    assert "flat.py:11:23: note: `x` is transposed to channels-last on entry" in notes[0]
    assert "--io-layout torch" in notes[0]
    assert "flat.py:12:24: note: `self.conv(x)` is transposed to PyTorch's axis order for `torch.flatten(self.conv(x), 1)`" in notes[1]
    assert "spatial size is not known at conversion time" in notes[1]
    [entry] = json.loads(report.read_text())["files"]
    assert [d["code"] for d in entry["diagnostics"]] == ["T2K109", "T2K109"]


def test_api_explain_layout_is_off_by_default():
    source = (EXAMPLES / "simple_conv.py").read_text()
    assert not [d for d in torch2keras.convert(source).diagnostics if d.code == "T2K109"]
    notes = [d for d in torch2keras.convert(source, explain_layout=True).diagnostics if d.code == "T2K109"]
    assert notes and all(d.severity == "note" for d in notes)
    assert not [d for d in torch2keras.convert(source, io_layout="keras", explain_layout=True).diagnostics
                if d.code == "T2K109"]
