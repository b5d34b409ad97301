"""Getting Odoo 19 when it is missing (tools/lib.sh `require_odoo`), against local git repositories
standing in for the official one: nothing is fetched from outside. Each case runs the shell function
in a fresh bash, as both commands do, and checks the folder it leaves and the one message it says."""

import os
import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / 'lib.sh'
RELEASE = "version_info = ({major}, 0, 0, FINAL, 0, '')\nseries = '{major}.0'\n"


def git(cwd, *args):
    subprocess.run(['git', *args], cwd=cwd, check=True, capture_output=True, text=True)


def make_tree(folder, major, marker=None):
    """A tiny stand-in for an Odoo source tree: an `odoo-bin` and an `odoo/release.py`."""
    (folder / 'odoo').mkdir(parents=True)
    (folder / 'odoo-bin').write_text('#!/usr/bin/env python3\nprint("odoo stand-in")\n')
    (folder / 'odoo' / 'release.py').write_text(RELEASE.format(major=major))
    if marker:
        (folder / marker).write_text('placed by hand\n')


@pytest.fixture(scope='module')
def official(tmp_path_factory):
    """A bare repository with a `19.0` branch (Odoo 19) and an `18.0` branch (Odoo 18)."""
    root = tmp_path_factory.mktemp('official')
    work = root / 'work'
    work.mkdir()
    git(work, 'init', '-q', '-b', '19.0')
    git(work, 'config', 'user.email', 'test@example.com')
    git(work, 'config', 'user.name', 'test')
    make_tree(work, 19)
    git(work, 'add', '.')
    git(work, 'commit', '-q', '-m', 'Odoo 19 stand-in')
    git(work, 'checkout', '-q', '-b', '18.0')
    (work / 'odoo' / 'release.py').write_text(RELEASE.format(major=18))
    git(work, 'commit', '-q', '-am', 'Odoo 18 stand-in')
    bare = root / 'odoo.git'
    git(root, 'clone', '-q', '--bare', str(work), str(bare))
    return f'file://{bare}'


def require_odoo(target, **settings):
    """Runs `require_odoo` with FUSION_CLOVER_ODOO=target; returns (exit code, stderr)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith('FUSION_CLOVER_ODOO')}
    env.update({'FUSION_CLOVER_ODOO': str(target), 'GIT_CONFIG_NOSYSTEM': '1', **settings})
    result = subprocess.run(
        ['bash', '-c', f'source "{LIB}" && require_odoo && echo READY'],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert ('READY' in result.stdout) == (result.returncode == 0), result
    return result.returncode, result.stderr


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith('error:')]


def test_clone_when_missing(tmp_path, official):
    target = tmp_path / 'odoo19'
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official)
    assert code == 0, stderr
    assert (target / 'odoo-bin').is_file()
    assert "version_info = (19," in (target / 'odoo' / 'release.py').read_text()
    # A shallow clone of the one branch: one commit, no other branch fetched.
    log = subprocess.run(['git', 'log', '--oneline'], cwd=target, capture_output=True, text=True, check=True)
    assert log.stdout.count('\n') == 1
    assert 'Odoo 19 stand-in' in log.stdout
    assert (target / '.git' / 'shallow').exists()
    # It says what it downloads and from where, then where Odoo is.
    assert f"branch 19.0 of {official}" in stderr
    assert 'MB to download' in stderr
    assert f"Odoo 19 is at {target}" in stderr
    assert not list(tmp_path.glob('odoo19.partial-*'))
    assert not list(tmp_path.glob('.odoo19.clone-*'))


def test_clone_into_existing_empty_folder(tmp_path, official):
    target = tmp_path / 'empty'
    target.mkdir()
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official)
    assert code == 0, stderr
    assert (target / 'odoo-bin').is_file()


def test_existing_tree_is_left_alone(tmp_path):
    target = tmp_path / 'odoo19'
    make_tree(target, 19, marker='HAND_PLACED')
    before = sorted(p.relative_to(target) for p in target.rglob('*'))
    # An unreachable repository proves nothing was asked of it.
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=f'file://{tmp_path}/nowhere.git')
    assert code == 0, stderr
    assert stderr == ''
    assert sorted(p.relative_to(target) for p in target.rglob('*')) == before
    assert not (target / '.git').exists()


def test_existing_non_19_tree_is_refused(tmp_path, official):
    target = tmp_path / 'odoo18'
    make_tree(target, 18, marker='HAND_PLACED')
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official)
    assert code != 0
    [message] = error_lines(stderr)
    assert 'not Odoo 19' in message and 'version_info = (18,' in message
    assert "version_info = (18," in (target / 'odoo' / 'release.py').read_text()
    assert (target / 'HAND_PLACED').exists() and not (target / '.git').exists()


def test_cloned_non_19_branch_is_refused(tmp_path, official):
    target = tmp_path / 'odoo19'
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official, FUSION_CLOVER_ODOO_BRANCH='18.0')
    assert code != 0
    [message] = error_lines(stderr)
    assert 'is not Odoo 19' in message and 'nothing was installed' in message
    assert not target.exists()
    assert not list(tmp_path.glob('odoo19.partial-*'))


def test_unreachable_repository(tmp_path):
    target = tmp_path / 'odoo19'
    missing = f'file://{tmp_path}/nowhere.git'
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=missing)
    assert code != 0
    [message] = error_lines(stderr)
    assert f'could not download Odoo from {missing} (branch 19.0)' in message
    assert not target.exists()
    assert not list(tmp_path.glob('odoo19.partial-*')) and not list(tmp_path.glob('.odoo19.clone-*'))


def test_missing_branch_is_unreachable(tmp_path, official):
    target = tmp_path / 'odoo19'
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official, FUSION_CLOVER_ODOO_BRANCH='99.0')
    assert code != 0
    [message] = error_lines(stderr)
    assert 'could not download Odoo' in message and '99.0' in message
    assert not target.exists()


def test_opt_out_keeps_the_message(tmp_path, official):
    target = tmp_path / 'odoo19'
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official, FUSION_CLOVER_ODOO_FETCH='0')
    assert code != 0
    [message] = error_lines(stderr)
    assert f'Odoo 19 source not found at {target}' in message and 'FUSION_CLOVER_ODOO_FETCH=0' in message
    assert 'downloading' not in stderr.replace('downloading it is off', '')
    assert not target.exists()


def test_non_empty_folder_is_not_cloned_into(tmp_path, official):
    target = tmp_path / 'other'
    target.mkdir()
    (target / 'notes.txt').write_text('mine\n')
    code, stderr = require_odoo(target, FUSION_CLOVER_ODOO_REPO=official)
    assert code != 0
    [message] = error_lines(stderr)
    assert 'not empty' in message
    assert sorted(p.name for p in target.iterdir()) == ['notes.txt']


def test_parent_that_cannot_hold_it(tmp_path, official):
    # A file where the parent folder should be: what root meets instead of a read-only folder.
    (tmp_path / 'a-file').write_text('')
    code, stderr = require_odoo(tmp_path / 'a-file' / 'odoo19', FUSION_CLOVER_ODOO_REPO=official)
    assert code != 0
    [message] = error_lines(stderr)
    assert 'is not writable' in message and 'FUSION_CLOVER_ODOO' in message
