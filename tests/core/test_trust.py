"""theorycheck.core.trust: who else could have written a path, and the per-user key and MAC."""

import os
import re
import stat
import threading

import pytest

from theorycheck.core import trust

ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="changing a file's owner or group to another account needs root")


@pytest.fixture
def keyfile(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "cache.key"
    monkeypatch.setenv(trust.ENV_KEY_FILE, str(path))
    monkeypatch.setattr(trust, "_KEYS", {})
    return path


def _other_group():
    """A group that is not the caller's private group (one of the system's own)."""
    import grp
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    return next(g for g in grp.getgrall() if g.gr_name != me)


def test_a_private_directory_and_file_have_no_foreign_writer(tmp_path):
    d = tmp_path / "d"
    d.mkdir(mode=0o700)
    (d / "f").write_text("x")
    os.chmod(d / "f", 0o644)
    assert trust.foreign_writer(d) is None and trust.foreign_writer(d / "f") is None


@pytest.mark.parametrize("mode", [0o777, 0o757, 0o1777])
def test_a_directory_every_user_may_write_is_foreign(tmp_path, mode):
    os.chmod(tmp_path, mode)
    try:
        assert f"writable by every user (mode {stat.S_IMODE(mode):04o})" in trust.foreign_writer(tmp_path)
    finally:
        os.chmod(tmp_path, 0o700)


@ROOT_ONLY
def test_group_write_is_foreign_unless_the_group_is_the_users_own(tmp_path):
    import grp
    import pwd

    d = tmp_path / "d"
    d.mkdir()
    os.chmod(d, 0o770)
    group = _other_group()
    os.chown(d, os.geteuid(), group.gr_gid)
    assert trust.foreign_writer(d) == f"it is writable by the group {group.gr_name} (mode 0770)"
    me = pwd.getpwuid(os.geteuid()).pw_name
    own = grp.getgrgid(os.getegid())
    if own.gr_name != me or set(own.gr_mem) - {me}:
        pytest.skip("the caller has no user private group")
    os.chown(d, os.geteuid(), own.gr_gid)  # a group named after the user with no other member: the user's own
    assert trust.foreign_writer(d) is None


@ROOT_ONLY
def test_a_directory_owned_by_another_user_is_foreign_and_root_only_where_allowed(tmp_path):
    d = tmp_path / "d"
    d.mkdir(mode=0o755)
    os.chown(d, 65534, 65534)  # nobody
    assert trust.foreign_writer(d).startswith("it is owned by ")
    assert "not by you" in trust.foreign_writer(d)


def test_the_key_is_made_once_private_and_read_back(keyfile):
    k = trust.user_key()
    assert len(k) == trust.KEY_BYTES and keyfile.exists()
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600 and stat.S_IMODE(keyfile.parent.stat().st_mode) == 0o700
    trust._KEYS.clear()
    assert trust.user_key() == k  # the same key in a later process


def test_two_processes_making_the_key_at_once_agree_on_one(keyfile):
    keyfile.parent.mkdir(mode=0o700)
    barrier = threading.Barrier(4)

    def make():
        barrier.wait()
        trust._create(keyfile)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keyfile.read_text().strip()) == 2 * trust.KEY_BYTES
    assert [p.name for p in keyfile.parent.iterdir()] == ["cache.key"]  # no temporary file left


@pytest.mark.parametrize("mode, needle", [(0o644, "open to others (mode 0644)"), (0o660, "open to others")])
def test_a_key_others_can_read_is_refused_with_the_fix(keyfile, mode, needle):
    trust.user_key()
    os.chmod(keyfile, mode)
    trust._KEYS.clear()
    with pytest.raises(trust.UntrustedError, match=re.escape(needle)) as info:
        trust.user_key()
    assert f"chmod 600 {keyfile}" in info.value.fix


def test_a_key_in_a_folder_others_can_write_is_refused(keyfile):
    keyfile.parent.mkdir(mode=0o777)
    os.chmod(keyfile.parent, 0o777)
    with pytest.raises(trust.UntrustedError, match="is not private: it is writable by every user"):
        trust.user_key()
    assert not keyfile.exists()  # no key was written where others could swap it


def test_a_file_that_is_not_a_key_is_refused(keyfile):
    keyfile.parent.mkdir(mode=0o700)
    keyfile.write_text("not hex at all")
    os.chmod(keyfile, 0o600)
    with pytest.raises(trust.UntrustedError, match="not a theorycheck key"):
        trust.user_key()


def test_the_mac_depends_on_the_key_and_on_every_part():
    k1, k2 = b"1" * 32, b"2" * 32
    m = trust.mac(k1, b"ab", b"c")
    assert trust.mac_matches(k1, m, b"ab", b"c")
    assert not trust.mac_matches(k2, m, b"ab", b"c")
    assert not trust.mac_matches(k1, m, b"a", b"bc")  # parts are length-prefixed
    assert not trust.mac_matches(k1, m, b"ab", b"d")
    assert not trust.mac_matches(k1, None, b"ab", b"c")
