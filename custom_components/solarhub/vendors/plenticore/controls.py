"""Battery and generator settings as numbers, selects and switches; the installer's reboot button.

An entity exists only when the inverter has the setting and the logged-in role may write it.
There is no factory-reset entity, on purpose.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.components.number import NumberDeviceClass, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower

from ...api.plenticore.models import Role, SettingsMeta
from ...button import SolarHubButtonDescription
from ...devices import Identifier
from ...entity import EntitySpec, SolarHubEntityDescription
from ...number import SolarHubNumberDescription
from ...select import SolarHubSelectDescription
from ...switch import SolarHubSwitchDescription
from .const import LOCAL
from .coordinator import DataPoint, SettingsCoordinator

if TYPE_CHECKING:
    from ...api.plenticore.client import PlenticoreClient

MIN_SOC = "Battery:MinSoc"
MIN_HOME_CONSUMPTION = "Battery:MinHomeComsumption"  # sic, as the inverter spells it
STRATEGY = "Battery:Strategy"
MANUAL_CHARGE = "Battery:ManualCharge"
SHADOW_MANAGEMENT = "Generator:ShadowMgmt:Enable"
STRING_COUNT = "Properties:StringCnt"
STRATEGIES = {"1": "automatic", "2": "automatic_economical"}
# Battery usage modes: at most one of these is 1; "none" when all are 0.
USAGE_MODES = {
    "Battery:SmartBatteryControl:Enable": "smart_battery_control",
    "Battery:TimeControl:Enable": "time_control",
    "EnergyMgmt:AcStorage": "ac_storage",
}
USAGE_MODE_NONE = "none"

type Values = Mapping[DataPoint, str]
type Spec = EntitySpec[Values]


def _float(values: Values, *, point: DataPoint) -> float | None:
    try:
        return float(values[point])
    except KeyError, ValueError:
        return None


def _has(points: frozenset[DataPoint]) -> Callable[[Values], bool]:
    return lambda values: points <= values.keys()


class PlenticoreControls:
    """Builds the settings entities this inverter and role allow."""

    def __init__(
        self,
        coordinator: SettingsCoordinator,
        meta: SettingsMeta,
        client: PlenticoreClient,
        device: Identifier,
    ) -> None:
        """Keep what the builders need: where to write, what exists, who is logged in."""
        self._coordinator = coordinator
        self._meta = meta.get(LOCAL, {})
        self._client = client
        self._device = device

    def specs(self, values: Values) -> list[Spec]:
        """Every settings entity; ``values`` are the device settings read at setup."""
        return [*self.numbers(), *self.selects(), *self.switches(values), *self.buttons()]

    def _spec(
        self, description: SolarHubEntityDescription[Values], points: frozenset[DataPoint]
    ) -> Spec:
        return EntitySpec(
            coordinator=self._coordinator,
            description=description,
            device=self._device,
            key=description.key,
            polls=points,
        )

    def writable(self, setting_id: str) -> bool:
        """Whether the inverter has this setting and the logged-in role may write it."""
        return (meta := self._meta.get(setting_id)) is not None and meta.writable

    def _write(self, values: Mapping[str, str]) -> Awaitable[None]:
        return self._coordinator.async_write(LOCAL, values)

    def numbers(self) -> list[Spec]:
        """Battery minimum state of charge and minimum home consumption."""
        specs = [
            (MIN_SOC, "battery_min_soc", PERCENTAGE, 5.0, NumberDeviceClass.BATTERY),
            (
                MIN_HOME_CONSUMPTION,
                "battery_min_home_consumption",
                UnitOfPower.WATT,
                1.0,
                NumberDeviceClass.POWER,
            ),
        ]
        controls = []
        for setting_id, key, unit, step, device_class in specs:
            if not self.writable(setting_id):
                continue
            meta = self._meta[setting_id]
            point = (LOCAL, setting_id)

            async def set_value(value: float, setting_id: str = setting_id) -> None:
                # The platform has put the value on the step; these settings are integers.
                await self._write({setting_id: str(round(value))})

            controls.append(
                self._spec(
                    SolarHubNumberDescription[Values](
                        key=key,
                        translation_key=key,
                        entity_category=EntityCategory.CONFIG,
                        device_class=device_class,
                        native_unit_of_measurement=unit,
                        native_min_value=float(meta.min or 0),
                        native_max_value=float(meta.max or 100),
                        native_step=step,
                        mode=NumberMode.BOX,
                        value_fn=partial(_float, point=point),
                        available_fn=_has(frozenset({point})),
                        set_fn=set_value,
                    ),
                    frozenset({point}),
                )
            )
        return controls

    def selects(self) -> list[Spec]:
        """Battery strategy and battery usage mode."""
        controls = []
        if self.writable(STRATEGY):
            point = (LOCAL, STRATEGY)
            by_option = {option: value for value, option in STRATEGIES.items()}

            async def select_strategy(option: str) -> None:
                await self._write({STRATEGY: by_option[option]})

            controls.append(
                self._spec(
                    SolarHubSelectDescription[Values](
                        key="battery_strategy",
                        translation_key="battery_strategy",
                        entity_category=EntityCategory.CONFIG,
                        options=list(STRATEGIES.values()),
                        current_fn=lambda values: STRATEGIES.get(values.get(point, "")),
                        available_fn=_has(frozenset({point})),
                        select_fn=select_strategy,
                    ),
                    frozenset({point}),
                )
            )
        modes = {sid: option for sid, option in USAGE_MODES.items() if self.writable(sid)}
        if modes:
            points = frozenset((LOCAL, sid) for sid in modes)

            def current_mode(values: Values) -> str | None:
                enabled = [
                    option for sid, option in modes.items() if values.get((LOCAL, sid)) == "1"
                ]
                return enabled[0] if enabled else USAGE_MODE_NONE

            async def select_mode(option: str) -> None:
                # All off first, then the chosen one on: the inverter refuses two modes at once.
                await self._write(dict.fromkeys(modes, "0"))
                if chosen := [sid for sid, mode in modes.items() if mode == option]:
                    await self._write({chosen[0]: "1"})

            controls.append(
                self._spec(
                    SolarHubSelectDescription[Values](
                        key="battery_usage_mode",
                        translation_key="battery_usage_mode",
                        entity_category=EntityCategory.CONFIG,
                        options=[USAGE_MODE_NONE, *modes.values()],
                        current_fn=current_mode,
                        available_fn=_has(points),
                        select_fn=select_mode,
                    ),
                    points,
                )
            )
        return controls

    def switches(self, values: Values) -> list[Spec]:
        """Shadow management per capable DC string, and manual charge (installer only)."""
        controls = []
        if self.writable(SHADOW_MANAGEMENT):
            controls += self._shadow_switches(values)
        if self.writable(MANUAL_CHARGE):
            point = (LOCAL, MANUAL_CHARGE)

            async def turn_manual_charge(on: bool) -> None:
                await self._write({MANUAL_CHARGE: "1" if on else "0"})

            controls.append(
                self._spec(
                    SolarHubSwitchDescription[Values](
                        key="battery_manual_charge",
                        translation_key="battery_manual_charge",
                        entity_category=EntityCategory.CONFIG,
                        is_on_fn=lambda values: values[point] == "1" if point in values else None,
                        available_fn=_has(frozenset({point})),
                        turn_fn=turn_manual_charge,
                    ),
                    frozenset({point}),
                )
            )
        return controls

    def _shadow_switches(self, values: Values) -> list[Spec]:
        """One switch per string whose ``Properties:String<n-1>Features`` is 1 (bit n-1)."""
        point = (LOCAL, SHADOW_MANAGEMENT)
        try:
            count = int(values[(LOCAL, STRING_COUNT)])
        except KeyError, ValueError:
            return []
        controls = []
        for index in range(count):
            if values.get((LOCAL, f"Properties:String{index}Features")) != "1":
                continue
            bit = 1 << index

            def is_on(values: Values, bit: int = bit) -> bool | None:
                try:
                    return bool(int(values[point]) & bit)
                except KeyError, ValueError:
                    return None

            async def turn(on: bool, bit: int = bit) -> None:
                current = int(self._coordinator.data.get(point, "0"))
                await self._write({SHADOW_MANAGEMENT: str(current | bit if on else current & ~bit)})

            controls.append(
                self._spec(
                    SolarHubSwitchDescription[Values](
                        key=f"shadow_management_{index + 1}",
                        translation_key="shadow_management",
                        translation_placeholders={"string": str(index + 1)},
                        entity_category=EntityCategory.CONFIG,
                        is_on_fn=is_on,
                        available_fn=_has(frozenset({point})),
                        turn_fn=turn,
                    ),
                    frozenset({point}),
                )
            )
        return controls

    def buttons(self) -> list[Spec]:
        """Reboot, for the installer only, disabled by default."""
        if self._client.role is not Role.MASTER:
            return []
        return [
            self._spec(
                SolarHubButtonDescription[Values](
                    key="reboot",
                    device_class=ButtonDeviceClass.RESTART,
                    entity_category=EntityCategory.CONFIG,
                    entity_registry_enabled_default=False,
                    press_fn=self._reboot,
                ),
                frozenset(),
            )
        ]

    async def _reboot(self) -> None:
        await self._coordinator.async_run(self._client.reboot, "reboot")
