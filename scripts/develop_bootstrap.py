"""Helper of ``scripts/develop``: prepare the demo's Home Assistant and set it up without clicks.

``prepare`` (before Home Assistant starts) writes the configuration if there is none, links our
integration into it and installs the few packages Home Assistant's always-loaded integrations need
(``--skip-pip`` keeps Home Assistant itself from installing anything) into a directory of their own,
so the test environment stays as ``scripts/setup`` made it. It prints that directory for PYTHONPATH.

``bootstrap`` (while Home Assistant starts) goes through Home Assistant's public HTTP API, the
same path a person takes in the browser: it creates the owner and finishes onboarding, then walks
our config flow for the PLENTICORE simulator, an account on the Tigo cloud simulator (its first two
systems) and, where the vendor menu offers them, an Enlighten v2 account (API key and user id) and
an Enlighten v4 account on the Enlighten simulator. v4 is the OAuth2 dance without clicks: the
application credential is created over Home Assistant's websocket API, the flow's authorize URL
(the simulator's, from the flow's advanced API address) is followed to Home Assistant's
``/auth/external/callback``, and the flow goes on with the API key, plan and systems. Whatever an
earlier start did is skipped; then it waits for the first readings of every entry.

Run inside the environment: ``scripts/run python scripts/develop_bootstrap.py prepare|bootstrap``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable
import contextlib
from dataclasses import dataclass
import importlib.metadata
import json
import os
from pathlib import Path
import secrets
import subprocess
import sys
import sysconfig
from typing import Any

import aiohttp
from yarl import URL

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "solarhub"
FLOW = "/api/config/config_entries/flow"
# Each of our entities with its config entry and its device's model, as JSON [[id, entry, model]].
OWNERS = (
    "{% set ns = namespace(rows=[]) %}"
    f"{{% for e in integration_entities('{DOMAIN}') %}}"
    "{% set ns.rows = ns.rows + [[e, config_entry_id(e), device_attr(e, 'model')]] %}"
    "{% endfor %}{{ ns.rows | to_json }}"
)
TIGO_SYSTEMS = 2  # the simulated account's first two (of three: the third has 500 panels)
# One Enlighten system per API, so the two entries do not write the same statistics.
ENLIGHTEN_V2_SYSTEM = "1001"  # Sonnenhof: microinverters only
ENLIGHTEN_V4_SYSTEM = "1002"  # Weinberg: production and consumption meters, a battery
FRONTEND_BASE = "HA-Frontend-Base"  # the header OAuth2 flows take their redirect URI from

# No default_config: it pulls in integrations that download binaries or want hardware.
CONFIGURATION_YAML = """\
# The SolarHub demo of scripts/develop (written once; edit it freely, delete it to get it back).
homeassistant:
  name: SolarHub demo
  # Where and when the simulated inverter lives (see tests/simulators/plenticore.py).
  latitude: 51.0
  longitude: 10.0
  elevation: 200
  time_zone: Europe/Berlin
  unit_system: metric
  currency: EUR
  country: DE
  language: en

# No http: here. Home Assistant 2026.10 moves it from YAML into its storage as a trial that must
# be confirmed in the browser within 5 minutes or is undone; its defaults (port 8123) suit the demo.
api:
auth:
config:
energy:
frontend:
history:
logbook:
onboarding:
person:
recorder:
system_log:
logger:
  default: info
  logs:
    custom_components.solarhub: debug
"""


def log(message: str) -> None:
    """Progress for the person running scripts/develop (stdout may be captured)."""
    print(f"scripts/develop: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# prepare
# --------------------------------------------------------------------------------------------------


def write_config(config: Path) -> None:
    """Create the configuration once and (re)link our integration into it."""
    config.mkdir(parents=True, exist_ok=True)
    yaml = config / "configuration.yaml"
    if not yaml.exists():
        yaml.write_text(CONFIGURATION_YAML)
        log(f"wrote {yaml.relative_to(REPO) if yaml.is_relative_to(REPO) else yaml}")
    custom = config / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = Path(os.path.relpath(REPO / "custom_components" / DOMAIN, custom))
    if link.is_symlink() and link.readlink() == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        sys.exit(f"{link} is a directory; remove it so it can link to the repository's copy")
    link.symlink_to(target, target_is_directory=True)


def configured_domains(config: Path) -> set[str]:
    """The integrations configuration.yaml names (``sensor 2:`` counts as ``sensor``)."""
    from homeassistant.util.yaml import load_yaml_dict  # noqa: PLC0415

    return {str(key).split(" ")[0] for key in load_yaml_dict(config / "configuration.yaml")}


def demo_requirements(config: Path) -> list[str]:
    """Requirements of what Home Assistant will set up: its defaults, the configured, their deps."""
    from homeassistant import bootstrap  # noqa: PLC0415
    import homeassistant.components  # noqa: PLC0415

    components = Path(homeassistant.components.__path__[0])
    todo = set(bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS)
    todo |= configured_domains(config)
    seen: set[str] = set()
    requirements: set[str] = set()
    while todo:
        domain = todo.pop()
        manifest_file = components / domain / "manifest.json"
        if domain in seen or not manifest_file.exists():
            continue
        seen.add(domain)
        manifest = json.loads(manifest_file.read_text())
        requirements.update(manifest.get("requirements", []))
        todo.update(manifest.get("dependencies", []))
    return sorted(requirements)


def is_installed(requirement: str) -> bool:
    """Whether ``name==version`` is importable as pinned."""
    name, _, version = requirement.partition("==")
    try:
        return importlib.metadata.version(name) == version
    except importlib.metadata.PackageNotFoundError:
        return False


def pip_install(deps: Path, *arguments: str) -> str | None:
    """``pip install`` into the prefix ``deps``; None if it worked, else the last line it wrote."""
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    env = {key: value for key, value in os.environ.items() if key != "PIP_FIND_LINKS"}
    done = subprocess.run(  # noqa: S603
        [*command, "--prefix", str(deps), *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["pip failed"])[-1]


def install_requirements(deps: Path, requirements: list[str]) -> None:
    """Install what is missing into the prefix ``deps``, one by one, as pinned if possible.

    Some pins have no wheel for this Python (pymicro-vad and pyspeex-noise 1.x: none for 3.14) and
    no compiler builds them here; then the newest wheel is taken. The import matters even to the
    demo: without it assist_pipeline fails, and with it the service descriptions the frontend
    loads first (the 2.x methods were renamed, which only voice pipelines would notice).
    """
    from homeassistant import const  # noqa: PLC0415

    stamp = deps / "installed.txt"
    wanted = "\n".join([const.__version__, *requirements]) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    missing = [req for req in requirements if not is_installed(req)]
    if missing:
        names = " ".join(req.partition("==")[0] for req in missing)
        log(f"installing what Home Assistant's built-in integrations need (once): {names}")
    constraints = str(Path(const.__file__).with_name("package_constraints.txt"))
    failed = False
    for requirement in missing:
        if pip_install(deps, "-c", constraints, requirement) is None:
            continue
        name = requirement.partition("==")[0]
        if (error := pip_install(deps, "--only-binary", ":all:", name)) is None:
            log(f"{requirement} cannot be installed here; took the newest wheel of {name}")
        else:
            log(f"could not install {requirement} ({error}); what needs it will not load")
            failed = True
    if failed:
        return  # no stamp: try again next time
    deps.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted)


def site_packages(prefix: Path) -> list[str]:
    """Where ``pip install --prefix`` puts packages for this interpreter (pure, binary)."""
    where = {"base": str(prefix), "platbase": str(prefix)}
    return list(
        dict.fromkeys(sysconfig.get_path(kind, vars=where) for kind in ("purelib", "platlib"))
    )


def prepare(args: argparse.Namespace) -> None:
    """Configuration, link and requirements; prints the PYTHONPATH that adds the packages."""
    write_config(args.config)
    site = site_packages(args.deps)
    sys.path[:0] = site  # is_installed sees earlier installs (PYTHONPATH does it later)
    install_requirements(args.deps, demo_requirements(args.config))
    print(os.pathsep.join(site))


# --------------------------------------------------------------------------------------------------
# bootstrap
# --------------------------------------------------------------------------------------------------


class BootstrapError(Exception):
    """Home Assistant did not answer as expected."""


@dataclass(frozen=True, slots=True)
class Login:
    """The demo owner."""

    username: str
    password: str

    @classmethod
    def load_or_create(cls, path: Path, username: str, password: str | None) -> Login:
        """The stored login, or a new one stored (before the owner exists: never lost).

        The password is random unless given: Home Assistant listens on every interface.
        """
        if path.exists():
            fields = dict(
                line.split(":", 1) for line in path.read_text().splitlines() if ":" in line
            )
            return cls(fields["username"].strip(), fields["password"].strip())
        password = password or secrets.token_urlsafe(9)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# Owner of the scripts/develop demo (delete .develop/ to start over).\n"
            f"username: {username}\npassword: {password}\n"
        )
        path.chmod(0o600)
        return cls(username, password)


class HomeAssistantApi:
    """The few REST calls the bootstrap needs."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Talk to Home Assistant at ``url`` (no trailing slash)."""
        self._session = session
        self._url = url
        self.client_id = f"{url}/"
        self._token: str | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Any = None,
        frontend: str | None = None,
    ) -> Any:
        """JSON answer of a call; raises BootstrapError unless the status is 200.

        ``frontend``: the address the browser would name in ``HA-Frontend-Base`` (OAuth2 flows
        build their redirect URI from it).
        """
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        if frontend is not None:
            headers[FRONTEND_BASE] = frontend
        async with self._session.request(
            method, self._url + path, json=json_body, data=form, headers=headers
        ) as response:
            text = await response.text()
            if response.status != 200:
                raise BootstrapError(f"{method} {path}: HTTP {response.status} {text[:300]}")
            return json.loads(text) if text else None

    async def wait_until_up(self) -> list[dict[str, Any]] | None:
        """Onboarding steps once the HTTP server answers; None when onboarding is complete."""
        while True:
            try:
                async with self._session.get(self._url + "/api/onboarding") as response:
                    if response.status == 404:  # the onboarding views exist only until it is done
                        return None
                    if response.status == 200:
                        steps: list[dict[str, Any]] = await response.json()
                        return steps
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)

    async def use_code(self, code: str) -> None:
        """Exchange an authorization code for an access token used from now on."""
        token = await self.request(
            "POST",
            "/auth/token",
            form={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        )
        self._token = token["access_token"]

    async def create_owner(self, login: Login) -> None:
        """Onboarding's first step: the owner (an admin), logged in."""
        answer = await self.request(
            "POST",
            "/api/onboarding/users",
            json_body={
                "client_id": self.client_id,
                "name": "Demo Developer",
                "username": login.username,
                "password": login.password,
                "language": "en",
            },
        )
        await self.use_code(answer["auth_code"])

    async def log_in(self, login: Login) -> None:
        """Log in as the login page does."""
        flow = await self.request(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = await self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json_body={
                "client_id": self.client_id,
                "username": login.username,
                "password": login.password,
            },
        )
        if result.get("type") != "create_entry":
            raise BootstrapError(
                f"cannot log in as {login.username!r} ({result.get('errors')}); "
                "delete .develop/ to start over"
            )
        await self.use_code(result["result"])

    async def finish_onboarding(self, pending: set[str]) -> None:
        """The remaining steps, in the order the onboarding pages take them."""
        if "core_config" in pending:  # location etc. come from configuration.yaml
            await self.request("POST", "/api/onboarding/core_config", json_body={})
        if "analytics" in pending:  # nothing is shared unless enabled in the settings
            await self.request("POST", "/api/onboarding/analytics", json_body={})
        if "integration" in pending:
            await self.request(
                "POST",
                "/api/onboarding/integration",
                json_body={"client_id": self.client_id, "redirect_uri": self.client_id},
            )

    async def wait_until_running(self) -> None:
        """Until Home Assistant has started completely."""
        while True:
            if (await self.request("GET", "/api/core/state"))["state"] == "RUNNING":
                return
            await asyncio.sleep(0.5)

    async def entries(self, domain: str | None = DOMAIN) -> list[dict[str, Any]]:
        """Config entries of ``domain`` (None: all)."""
        query = f"?domain={domain}" if domain else ""
        entries: list[dict[str, Any]] = await self.request(
            "GET", f"/api/config/config_entries/entry{query}"
        )
        return entries

    async def remove_broken_onboarding_entries(self) -> None:
        """Onboarding adds Google Translate TTS, which needs gTTS (not here) and the internet."""
        for entry in await self.entries(None):
            if entry["source"] == "onboarding" and entry["state"] == "setup_error":
                await self.request(
                    "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
                )
                log(f"removed {entry['title']!r}, which onboarding added but cannot load here")

    async def _answer(self, step: dict[str, Any], user_input: dict[str, Any]) -> dict[str, Any]:
        """Answer a menu or form of a config flow; returns the next step."""
        if step["type"] not in {"menu", "form"}:
            raise BootstrapError(f"config flow stopped early: {step}")
        answer: dict[str, Any] = await self.request(
            "POST", f"{FLOW}/{step['flow_id']}", json_body=user_input
        )
        return answer

    async def _vendor_form(self, vendor: str, user_input: dict[str, Any]) -> dict[str, Any]:
        """A new flow of ours: the vendor menu, then ``user_input`` for that vendor's first form."""
        menu = await self.request("POST", FLOW, json_body={"handler": DOMAIN})
        form = await self._answer(menu, {"next_step_id": vendor})
        return await self._answer(form, user_input)

    @staticmethod
    def _created(step: dict[str, Any]) -> dict[str, Any] | None:
        """The entry the flow created; None if it stopped because the device/account is there."""
        if step["type"] == "abort" and str(step.get("reason")).startswith("already_configured"):
            return None
        if step["type"] != "create_entry":
            raise BootstrapError(f"config flow did not create the entry: {step}")
        entry: dict[str, Any] = step["result"]
        return entry

    async def add_plenticore(self, host: str, password: str) -> dict[str, Any] | None:
        """Walk our config flow: vendor menu, then host and password; returns the new entry."""
        return self._created(
            await self._vendor_form("plenticore", {"host": host, "password": password})
        )

    async def add_tigo(
        self, base_url: str, username: str, password: str, count: int
    ) -> dict[str, Any] | None:
        """Walk our config flow: vendor menu, account, then the account's first ``count`` systems.

        Returns the new entry (None if the account has one already).
        """
        credentials = {
            "username": username,
            "password": password,
            "advanced": {"base_url": base_url},
        }
        step = await self._vendor_form("tigo", credentials)
        if step["type"] == "form" and step["step_id"] != "systems":
            raise BootstrapError(f"the Tigo login was refused: {step.get('errors')}")
        if step["type"] == "form":
            field = next(f for f in step["data_schema"] if f["name"] == "systems")
            offered = field.get("default") or [
                o["value"] for o in field["selector"]["select"]["options"]
            ]
            names = {o["value"]: o["label"] for o in field["selector"]["select"]["options"]}
            chosen = [str(system_id) for system_id in offered[:count]]
            log(
                "choosing the systems "
                + ", ".join(f"{names.get(s, s)!r} ({s})" for s in chosen)
                + f" of {len(offered)}"
            )
            step = await self._answer(step, {"systems": chosen})
        return self._created(step)

    async def vendor_menu(self) -> list[str]:
        """What our flow's vendor menu offers (the flow is left again)."""
        menu = await self.request("POST", FLOW, json_body={"handler": DOMAIN})
        await self.request("DELETE", f"{FLOW}/{menu['flow_id']}")
        options: list[str] = menu["menu_options"]
        return options

    async def add_enlighten_v2(
        self, base_url: str, api_key: str, user_id: str
    ) -> dict[str, Any] | None:
        """Walk our config flow: API key and user id, the Watt plan, one system."""
        step = await self._vendor_form(
            "enlighten",
            {"api_key": api_key, "user_id": user_id, "advanced": {"base_url": base_url}},
        )
        if step["type"] == "form" and step["step_id"] != "enlighten_plan":
            raise BootstrapError(f"the Enlighten v2 key was refused: {step.get('errors')}")
        if step["type"] == "form":
            step = await self._answer(step, {"plan": "watt"})
            step = await self._answer(step, {"systems": [ENLIGHTEN_V2_SYSTEM]})
        return self._created(step)

    async def application_credential(self, ws_url: str, client_id: str, secret: str) -> None:
        """The Enphase app's client id and secret as application credentials (once)."""
        async with self._session.ws_connect(ws_url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self._token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise BootstrapError("the websocket API refused the login")
            await ws.send_json({"id": 1, "type": "application_credentials/list"})
            listed = await ws.receive_json()
            if any(c["domain"] == DOMAIN and c["client_id"] == client_id for c in listed["result"]):
                return
            await ws.send_json(
                {
                    "id": 2,
                    "type": "application_credentials/create",
                    "domain": DOMAIN,
                    "client_id": client_id,
                    "client_secret": secret,
                    "name": "Enphase app (simulator)",
                }
            )
            created = await ws.receive_json()
            if not created.get("success"):
                raise BootstrapError(f"application_credentials/create: {created.get('error')}")
            log("created the application credential of the simulated Enphase app")

    async def add_enlighten_v4(
        self, frontend: str, base_url: str, api_key: str
    ) -> dict[str, Any] | None:
        """Walk our config flow through OAuth2 against the simulator, then key, plan, system."""
        menu = await self.request("POST", FLOW, json_body={"handler": DOMAIN})
        form = await self._answer(menu, {"next_step_id": "enlighten_v4"})
        step = await self.request(
            "POST",
            f"{FLOW}/{form['flow_id']}",
            json_body={"advanced": {"base_url": base_url}},
            frontend=frontend,
        )
        if step["type"] != "external":
            raise BootstrapError(f"the v4 flow did not go to Enphase's sign-in: {step}")
        async with self._session.get(step["url"], allow_redirects=False) as authorize:
            callback = authorize.headers.get("Location", "")
            if authorize.status != 302 or "code=" not in callback:
                raise BootstrapError(f"the simulator's authorize answered {authorize.status}")
        async with self._session.get(URL(callback)) as resumed:  # Home Assistant's callback
            if resumed.status != 200:
                raise BootstrapError(f"{URL(callback).path}: HTTP {resumed.status}")
        step = await self.request("GET", f"{FLOW}/{step['flow_id']}")
        if step["type"] == "form" and step["step_id"] == "enlighten_v4_api_key":
            step = await self._answer(step, {"api_key": api_key})
            if step["type"] == "form" and step["step_id"] != "enlighten_v4_plan":
                raise BootstrapError(f"the v4 API key was refused: {step.get('errors')}")
            step = await self._answer(step, {"plan": "watt"})
            step = await self._answer(step, {"systems": [ENLIGHTEN_V4_SYSTEM]})
        return self._created(step)

    async def integration_sensors(self) -> list[dict[str, Any]]:
        """States of our sensors, each with its ``entry_id`` and its device's ``model`` added."""
        rows = await self.request("POST", "/api/template", json_body={"template": OWNERS})
        owners = {entity_id: (entry_id, model) for entity_id, entry_id, model in rows}
        states: list[dict[str, Any]] = await self.request("GET", "/api/states")
        return [
            {**state, "entry_id": owners[eid][0], "model": owners[eid][1]}
            for state in states
            if (eid := state["entity_id"]) in owners and eid.startswith("sensor.")
        ]


async def wait_for_port(host: str, port: int) -> None:
    """Until something accepts connections on host:port (the simulator)."""
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.3)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return


def is_number(value: str) -> bool:
    """Whether a state is a reading rather than unknown/unavailable/text."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def vendor(entry: dict[str, Any]) -> str:
    """An entry's vendor, told by the title our flow gives it (the API shows no data or unique id).

    Tigo and Enlighten titles are "Tigo <systems>" and "Enlighten <systems>"; any other title
    counts as PLENTICORE. A renamed entry may be walked again; that stops at "already
    configured", which the flow walk takes as done.
    """
    for prefix, name in (("Tigo ", "tigo"), ("Enlighten ", "enlighten")):
        if entry["title"].startswith(prefix):
            return name
    return "plenticore"


async def wait_for_readings(
    api: HomeAssistantApi,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Until every enabled entry of ours is loaded and has power readings; entries and sensors.

    Enlighten entries need only be loaded and have their power sensors: when their first summary
    comes is the request-budget planner's choice (after the first statistics, within the
    per-minute limit), so their readings may still be unknown in the banner.
    """
    while True:
        entries = [entry for entry in await api.entries() if not entry["disabled_by"]]
        if entries and all(entry["state"] == "loaded" for entry in entries):
            sensors = await api.integration_sensors()
            power = [s for s in sensors if s["attributes"].get("device_class") == "power"]
            planned = {e["entry_id"] for e in entries if e["title"].startswith("Enlighten")}
            if all(
                any(s["entry_id"] == entry["entry_id"] for s in power) for entry in entries
            ) and all(is_number(s["state"]) for s in power if s["entry_id"] not in planned):
                return entries, sensors
        await asyncio.sleep(1)


async def within[T](seconds: float, what: str, awaitable: Awaitable[T]) -> T:
    """``awaitable``, or BootstrapError naming ``what`` after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise BootstrapError(f"{what}: nothing after {seconds:.0f} s") from None


def examples(sensors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A few telling sensors of an entry: Tigo or Enlighten systems, or the inverter's flows."""
    power = sorted(
        (s for s in sensors if s["attributes"].get("device_class") == "power"),
        key=lambda s: str(s["entity_id"]),
    )
    if chosen := [s for s in power if s["model"] == "Tigo system"]:
        chosen += [s for s in power if s["model"] == "Optimizer"][:1]
    elif chosen := [s for s in power if s["model"] == "Enlighten system"]:
        chosen = sorted(chosen, key=lambda s: not s["entity_id"].endswith("_solar_power"))[:4]
    else:
        suffixes = ("_pv_power", "_home_power", "_grid_power", "_battery_state_of_charge")
        chosen = [s for x in suffixes for s in sensors if s["entity_id"].endswith(x)]
    return chosen or sensors[:3]


def describe(entries: list[dict[str, Any]], sensors: list[dict[str, Any]]) -> list[str]:
    """Each entry with a few readings, for the banner."""
    lines = []
    for entry in entries:
        own = [s for s in sensors if s["entry_id"] == entry["entry_id"]]
        lines.append(f"  {entry['title']}: {len(own)} sensors, for example:")
        for sensor in examples(own):
            unit = sensor["attributes"].get("unit_of_measurement") or ""
            if not is_number(sensor["state"]):
                unit = ""  # "unknown", not "unknown W"
            lines.append(f"    {sensor['entity_id']}: {sensor['state']} {unit}".rstrip())
    return lines


def report(created: dict[str, Any] | None, what: str) -> None:
    """Log the outcome of a flow walk."""
    if created is None:
        log(f"the {what} has an entry already, under another title; left as it is")
    else:
        log(f"created the entry {created['title']!r} ({created['state']})")


async def add_enlighten(api: HomeAssistantApi, args: argparse.Namespace) -> None:
    """The Enlighten accounts the vendor menu offers: v2 (key and user id) and v4 (OAuth2).

    Both flows are walked on every start; an account that has its entry stops at "already
    configured" (v4 after signing in, since the Enphase user comes with the token).
    """
    enlighten = URL(args.enlighten_url)
    offered = await api.vendor_menu()
    if not {"enlighten", "enlighten_v4"} & set(offered):
        log("this SolarHub's vendor menu offers no Enlighten flow yet; no Enlighten account added")
        return
    await within(
        args.timeout,
        f"waiting for the Enlighten simulator on {enlighten.host}:{enlighten.port}",
        wait_for_port(str(enlighten.host), int(enlighten.port or 80)),
    )
    if "enlighten" in offered:
        log(f"adding an Enlighten v2 account at {enlighten}/api/v2 through the config flow")
        created = await api.add_enlighten_v2(
            f"{enlighten}/api/v2", args.enlighten_api_key, args.enlighten_user_id
        )
        report(created, "Enlighten v2 account")
    else:
        log("the vendor menu offers no Enlighten v2 flow yet; no v2 account added")
    if "enlighten_v4" in offered:
        ws_url = str(URL(args.api_url).with_scheme("ws").with_path("/api/websocket"))
        await api.application_credential(
            ws_url, args.enlighten_client_id, args.enlighten_client_secret
        )
        log(f"adding an Enlighten v4 account at {enlighten}/api/v4: OAuth2 against the simulator")
        created = await api.add_enlighten_v4(
            args.url, f"{enlighten}/api/v4", args.enlighten_v4_api_key
        )
        report(created, "Enlighten v4 account")
    else:
        log("the vendor menu offers no Enlighten v4 flow yet; no v4 account added")


async def bootstrap(args: argparse.Namespace) -> None:
    """Onboarding and our entries, each only if not done yet; then report the readings."""
    host, _, port = args.inverter.rpartition(":")
    login = Login.load_or_create(args.login, args.username, args.password)
    wait = args.timeout
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = HomeAssistantApi(session, args.api_url)
        steps = await within(
            wait, f"waiting for Home Assistant on {args.api_url}", api.wait_until_up()
        )
        pending = {step["step"] for step in steps or [] if not step["done"]}
        if "user" in pending:
            log(f"onboarding: creating the owner {login.username!r}")
            await api.create_owner(login)
        else:
            await api.log_in(login)
        if pending - {"user"}:
            log("onboarding: finishing (location etc. come from configuration.yaml)")
            await api.finish_onboarding(pending)
        await within(
            wait, "waiting for Home Assistant to finish starting", api.wait_until_running()
        )
        vendors = {vendor(entry) for entry in await api.entries()}
        if "plenticore" not in vendors:
            await within(
                wait,
                f"waiting for the simulator on {args.inverter}",
                wait_for_port(host, int(port)),
            )
            log(f"adding the PLENTICORE simulator at {args.inverter} through the config flow")
            created = await api.add_plenticore(args.inverter, args.inverter_password)
            report(created, "PLENTICORE simulator")
        if "tigo" not in vendors:
            tigo = URL(args.tigo_url)
            await within(
                wait,
                f"waiting for the Tigo simulator on {tigo.host}:{tigo.port}",
                wait_for_port(str(tigo.host), int(tigo.port or 80)),
            )
            log(f"adding the Tigo account {args.tigo_username} at {tigo} through the config flow")
            created = await api.add_tigo(
                args.tigo_url, args.tigo_username, args.tigo_password, TIGO_SYSTEMS
            )
            report(created, "Tigo account")
        if args.enlighten_url:
            await add_enlighten(api, args)
        try:
            entries, sensors = await within(
                wait, "waiting for first readings", wait_for_readings(api)
            )
        except BootstrapError as err:
            states = ", ".join(f"{e['title']}: {e['state']}" for e in await api.entries())
            raise BootstrapError(f"{err} ({states or 'no SolarHub entry'})") from None
        await api.remove_broken_onboarding_entries()
    print(
        "\n".join(
            [
                "",
                f"SolarHub demo ready: {args.url}",
                f"  user name: {login.username}",
                f"  password:  {login.password}",
                *describe(entries, sensors),
            ]
        ),
        flush=True,
    )


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="configuration, link and requirements")
    prep.add_argument("--config", type=Path, required=True, help="Home Assistant config dir")
    prep.add_argument("--deps", type=Path, required=True, help="prefix for extra packages")
    boot = commands.add_parser("bootstrap", help="onboarding and our config entry")
    boot.add_argument("--url", default="http://localhost:8123", help="URL to print")
    boot.add_argument("--api-url", default="http://127.0.0.1:8123", help="URL to call")
    boot.add_argument("--login", type=Path, required=True, help="file keeping the login")
    boot.add_argument("--username", default="dev", help="owner to create the first time")
    boot.add_argument("--password", help="their password (default: a random one)")
    boot.add_argument("--inverter", required=True, help="simulator as host:port")
    boot.add_argument("--inverter-password", default="Pass1234", help="its owner password")
    boot.add_argument("--tigo-url", required=True, help="Tigo simulator's API base URL")
    boot.add_argument("--tigo-username", default="owner@example.com", help="its account")
    boot.add_argument("--tigo-password", default="Sunny-Day-42", help="its password")
    boot.add_argument("--enlighten-url", help="Enlighten simulator's address (none: no Enlighten)")
    boot.add_argument("--enlighten-api-key", default="", help="its v2 API key")
    boot.add_argument("--enlighten-user-id", default="", help="its v2 user id")
    boot.add_argument("--enlighten-v4-api-key", default="", help="its v4 application's API key")
    boot.add_argument("--enlighten-client-id", default="", help="its v4 OAuth2 client id")
    boot.add_argument("--enlighten-client-secret", default="", help="its v4 OAuth2 client secret")
    boot.add_argument("--timeout", type=float, default=120, help="seconds to wait for each stage")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args)
        return 0
    try:
        asyncio.run(bootstrap(args))
    except (BootstrapError, aiohttp.ClientError, TimeoutError) as err:
        log(f"bootstrap failed: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
