"""`glm auth login|status|logout`: store a key the way gh users expect, see which key is in effect, test it.

The key is read without echo on a terminal (or as the first line of stdin, for scripts), stored by
glm_cli/keystore.py, and never printed: status shows only its last four characters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glm_cli.errors import AUTH, APIError, AuthError, GlmError, NetworkError, UsageError

if TYPE_CHECKING:
    from glm_cli.app import App
    from glm_cli.config import Settings

ReadSecret = Callable[[str], str]  # prompt -> what was typed (not echoed)
MAX_KEY_CHARS = 4096


@dataclass(frozen=True)
class AuthOptions:
    action: str  # login, status or logout
    profile: str | None = None
    offline: bool = False  # status: no test request
    as_json: bool = False  # status: one JSON object


def run_auth(opts: AuthOptions, app: App, read_secret: ReadSecret | None = None) -> int:
    """Run one auth subcommand; return the exit code (status: the verdict's)."""
    settings = app.settings(profile=opts.profile)  # an unknown --profile is refused here, as everywhere
    if opts.action == "login":
        return _login(app, settings, read_secret)
    if opts.action == "logout":
        return _logout(app, settings)
    return _status(opts, app, settings)


def mask(key: str) -> str:
    """Show a key as `****` and its last four characters (nothing of a short one)."""
    return "****" + (key[-4:] if len(key) >= 16 else "")


def _profile_label(settings: Settings) -> str:
    from glm_cli.keystore import DEFAULT

    if not settings.profile:
        return DEFAULT
    return settings.profile + ("" if settings.profile_source.startswith("flag") else f" ({settings.profile_source})")


def _read_key(app: App, read_secret: ReadSecret | None) -> str:
    if app.ios.stdin_tty:
        if read_secret is None:
            import getpass

            def read_secret(prompt: str) -> str:
                return getpass.getpass(prompt, stream=app.ios.stderr)  # type: ignore[arg-type]

        try:
            text = read_secret("Paste your GLM API key (input is hidden): ")
        except EOFError:
            text = ""
    else:  # scripts: `pass show glm | glm auth login`
        text = app.ios.stdin.read(MAX_KEY_CHARS + 1)
        if len(text) > MAX_KEY_CHARS:
            raise UsageError(f"stdin holds more than {MAX_KEY_CHARS:,} characters: that is not an API key")
        text = text.strip().splitlines()[0] if text.strip() else ""
    key = text.strip()
    if not key:
        raise UsageError(
            "no key given; nothing stored", 'paste the key at the prompt, or pipe it: echo "$KEY" | glm auth login'
        )
    return key


def _login(app: App, settings: Settings, read_secret: ReadSecret | None) -> int:
    from glm_cli.config import KEY_ENV_VARS, _usable_key, key_folder
    from glm_cli.keystore import save_key

    key = _usable_key(_read_key(app, read_secret), "the key given")  # also masks it in every message from now on
    path = save_key(key_folder(app.environ), settings.profile, key)
    app.ios.stderr.write(
        f"glm: stored the API key ({mask(key)}) for profile {_profile_label(settings)} in {path} (mode 0600)\n"
    )
    if "." not in key:
        app.warn("GLM keys look like <id>.<secret>; check it with: glm auth status")
    shadows = [var for var in KEY_ENV_VARS if app.environ.get(var, "").strip()]
    if shadows:
        app.warn(f"${shadows[0]} is set and takes precedence over the stored key; unset it to use this one")
    elif any(getattr(settings, k) for k in ("api_key_cmd", "api_key_env", "api_key")):
        app.warn(f"the stored key now takes precedence over the api_key settings of {settings.config_path}")
    app.ios.stderr.write("check it with: glm auth status\n")
    return 0


def _logout(app: App, settings: Settings) -> int:
    from glm_cli.config import KEY_ENV_VARS, key_folder
    from glm_cli.keystore import remove_key, store_path

    label = _profile_label(settings)
    if remove_key(key_folder(app.environ), settings.profile):
        app.ios.stderr.write(
            f"glm: removed the stored key for profile {label} from {store_path(key_folder(app.environ))}\n"
        )
    else:
        app.ios.stderr.write(f"glm: no key was stored for profile {label}; nothing to do\n")
    for var in KEY_ENV_VARS:
        if app.environ.get(var, "").strip():
            app.warn(f"${var} is still set in the environment: glm keeps using it")
    return 0


@dataclass
class Verdict:
    ok: bool
    text: str
    exit_code: int = 0
    status: int | None = None
    code: str | None = None


def check_key(app: App, settings: Settings, model: str) -> Verdict:
    """Send one tiny request (max_tokens 1, no retries) and say what the answer means for the key."""
    from glm_cli.client import RetryPolicy

    client = app.make_client(settings, retry=RetryPolicy(max_retries=0))  # one request: a verdict, not a retry loop
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "stream": False}
    try:
        for _ in client.chat(body):
            pass
    except APIError as err:
        if err.exit_code == AUTH or err.status == 401:
            return Verdict(False, f"refused: {err.message}", AUTH, err.status, err.code)
        if err.code == "1113":
            return Verdict(
                False,
                f"the key is accepted, but the account cannot pay for {model}: {err.message}"
                + (f" — {err.hint}" if err.hint else ""),
                err.exit_code,
                err.status,
                err.code,
            )
        if err.status is not None and 400 <= err.status < 500:
            return Verdict(
                True,
                f"works (the key was accepted; the test request itself was refused: {err.message})",
                0,
                err.status,
                err.code,
            )
        return Verdict(False, f"cannot tell: {err.message}", err.exit_code, err.status, err.code)
    except NetworkError as err:
        return Verdict(False, f"cannot tell: {err.message}", err.exit_code)
    except GlmError as err:  # a protocol error: something answered, but not like the GLM API
        return Verdict(False, f"cannot tell: {err.message}", err.exit_code)
    finally:
        client.close()
    return Verdict(True, f"works: {model} answered one request (max_tokens 1)", 0, 200)


def _status(opts: AuthOptions, app: App, settings: Settings) -> int:
    from glm_cli.config import key_folder, resolve_api_key
    from glm_cli.keystore import load_keys, open_to_others, store_path
    from glm_cli.redact import redact_url

    endpoint_source = settings.source("base_url")  # (the endpoint's when no base_url was set)
    info: dict[str, Any] = {
        "profile": settings.profile,
        "endpoint": {"base_url": redact_url(settings.base_url), "source": endpoint_source},
        "key": None,
        "stored_profiles": sorted(load_keys(key_folder(app.environ))),
        "credentials": str(store_path(key_folder(app.environ))),
    }
    mode = open_to_others(key_folder(app.environ))
    if mode is not None:
        app.warn(
            f"{store_path(key_folder(app.environ))} can be read by other users (mode {mode:04o}); "
            f"run: chmod 600 {store_path(key_folder(app.environ))}"
        )
    verdict: Verdict | None
    try:
        key, where = resolve_api_key(settings)
        info["key"] = {"masked": mask(key), "source": where}
    except AuthError as err:
        verdict = Verdict(False, f"no usable key: {err.message}", err.exit_code)
    else:
        model = app.catalogue(settings).resolve(settings.model)
        verdict = None if opts.offline else check_key(app, settings, model)
    if verdict is not None:
        info["check"] = {"ok": verdict.ok, "verdict": verdict.text, "status": verdict.status, "code": verdict.code}
    out = app.ios.stdout
    if opts.as_json:
        out.write(json.dumps(info, ensure_ascii=False) + "\n")
    else:
        key_line = f"{info['key']['masked']} from {info['key']['source']}" if info["key"] else "none"
        lines = [
            f"profile:  {_profile_label(settings)}",
            f"endpoint: {info['endpoint']['base_url']} ({endpoint_source})",
            f"key:      {key_line}",
        ]
        if info["stored_profiles"]:
            lines.append(f"stored:   {', '.join(info['stored_profiles'])} (glm auth login, {info['credentials']})")
        if verdict is not None:
            lines.append(f"check:    {verdict.text}")
        out.write("".join(line + "\n" for line in lines))
    return verdict.exit_code if verdict is not None else 0
