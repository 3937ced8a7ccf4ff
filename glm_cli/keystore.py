"""Keys stored by `glm auth login`: one JSON file beside config.yaml, private (0600), one key per profile.

A file, not the system keyring: it works the same on every machine, over SSH and in containers, and needs
no extra package; its mode is checked (as ssh checks its keys) and it is written whole or not at all.
Stdlib only; nothing here ever prints a key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from glm_cli.errors import ConfigError

FILE_NAME = "credentials.json"
DEFAULT = "default"  # the key used when no profile is chosen (and by a profile that has none of its own)
MAX_BYTES = 64 * 1024


def store_path(folder: Path) -> Path:
    """The credentials file in FOLDER: config.yaml's (config.key_folder: $GLM_CONFIG's, else $XDG_CONFIG_HOME/glm)."""
    return folder / FILE_NAME


def load_keys(folder: Path) -> dict[str, str]:
    """Return the stored keys by profile ({} when there is no file)."""
    path = store_path(folder)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_BYTES else None
    except (UnicodeDecodeError, ValueError):
        data = None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise ConfigError(f"{path} is not a glm credentials file", "remove it and run `glm auth login` again")
    return dict(keys)


def stored_key(folder: Path, profile: str | None) -> str | None:
    """The key stored for PROFILE (None: the default one), or None."""
    key = load_keys(folder).get(profile or DEFAULT, "").strip()
    return key or None


def open_to_others(folder: Path) -> int | None:
    """The credentials file's mode when other users can read or change it (else None)."""
    try:
        mode = store_path(folder).stat().st_mode & 0o777
    except OSError:
        return None
    return mode if os.name == "posix" and mode & 0o077 else None


def save_key(folder: Path, profile: str | None, key: str) -> Path:
    """Store KEY for PROFILE; return the file. Written to a private temporary file, then renamed over the old one."""
    keys = load_keys(folder)
    keys[profile or DEFAULT] = key
    return _write(folder, keys)


def remove_key(folder: Path, profile: str | None) -> bool:
    """Forget PROFILE's stored key; False when there was none."""
    keys = load_keys(folder)
    if keys.pop(profile or DEFAULT, None) is None:
        return False
    _write(folder, keys)
    return True


def _write(folder: Path, keys: dict[str, str]) -> Path:
    import tempfile

    path = store_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not keys:
            path.unlink(missing_ok=True)
            return path
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"keys": keys}, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}", "set GLM_CONFIG or XDG_CONFIG_HOME to a writable place"
        ) from None
    return path
