"""The backend registry: ``(cloud, kind, flavor)`` → implementation, filled through entry points.

Built-in backends and third-party packages register the same way, through the
entry-point group ``mlops_infra.backends``: each entry point names a function
``register(registry)`` that declares clouds and flavors. Declaring is cheap; the
implementation module (which imports a cloud SDK) is imported on first use only.

A cloud is one plugin: its :class:`CloudInfo` descriptor points, by ``module:attribute``
strings imported on first use, at everything else the product knows of it (policy packs,
replacement and stateful-type rules for plans and diffs, the mocks of plans and tests),
so that ``plan/``, ``policies/`` and ``resources/`` name no cloud.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydantic import BaseModel

from mlops_infra.catalog.gpus import GpuOffers
from mlops_infra.errors import MissingExtraError, RegistryError
from mlops_infra.registry._sdk_names import resolve_sdk_names_on_demand

__all__ = [
    "BUILTIN_KINDS",
    "ENTRY_POINT_GROUP",
    "CloudInfo",
    "Flavor",
    "FlavorRegistry",
    "Registry",
    "default_registry",
]

ENTRY_POINT_GROUP = "mlops_infra.backends"
"""Entry-point group through which backends register."""

BUILTIN_KINDS: dict[str, str] = {
    "foundation": "mlops_infra.resources.foundation:FoundationBackend",
    "artifact_store": "mlops_infra.resources.artifact_store:ArtifactStoreBackend",
    "tracking_server": "mlops_infra.resources.tracking_server:TrackingServerBackend",
    "training_cluster": "mlops_infra.resources.training_cluster:TrainingClusterBackend",
    "training_job": "mlops_infra.resources.training_job:TrainingJobBackend",
    "pipeline": "mlops_infra.resources.pipeline:PipelineBackend",
    "serving_endpoint": "mlops_infra.resources.serving_endpoint:ServingEndpointBackend",
}
"""Concept kinds and the backend base class each implementation must subclass."""

_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_IMPL_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _check_key(what: str, value: object) -> str:
    if not isinstance(value, str) or not _KEY_RE.fullmatch(value):
        msg = f"{what} {value!r} is not valid; allowed: lowercase letters, digits, '-', '_'"
        raise RegistryError(msg)
    return value


def _check_path(what: str, value: object) -> None:
    if not isinstance(value, str) or not _IMPL_RE.fullmatch(value):
        msg = f"{what} {value!r} is not 'package.module:attribute'"
        raise RegistryError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudInfo:
    """A deployment target: what it offers, and where everything specific to it lives.

    The ``module:attribute`` paths are imported on first use (through
    :meth:`FlavorRegistry.resolve`), so declaring a cloud stays cheap and imports no SDK.

    Attributes:
        name: Cloud name used in stack files (``aws``, ``gcp``, ``azure``, ``local``).
        description: One line shown by ``mlops-infra flavors``.
        gpus: The GPU shapes it offers (the cost guardrail prices them).
        sdk_module: Python package its backends import (``pulumi_random``), if any.
        extra: The ``mlops-infra[...]`` extra that installs ``sdk_module``.
        policies: Paths of its policy packs, each a tuple of
            :class:`~mlops_infra.policies.Rule` of one pack (named by the rules' ``pack``).
        plan_rules: Path of its :class:`~mlops_infra.plan.provider_rules.ProviderRules`:
            which input changes replace a resource, which types hold data or take tags.
        mocks: Path of its :class:`~mlops_infra.offline.CloudMocks` subclass, the one place
            its invoke answers and the outputs its provider computes are written: offline
            plans use it previewed, unit tests applied.
        rehearsal: Path of a class whose instances rehearse a stack of the cloud on this
            machine (``mlops-infra rehearse``), if the cloud has one.
        quotas: Path of a function ``(spec: StackSpec) -> list[str]`` naming, one line
            each, the quotas a stack needs that the cloud may not grant by default
            (``mlops-infra check`` prints them).
        runs_pipelines_in_up: Its pipelines run a new version inside ``pulumi up`` in every
            tier (``wait_for_run`` resolves to true; an explicit false is refused).
    """

    name: str
    description: str
    gpus: GpuOffers
    sdk_module: str | None = None
    extra: str | None = None
    policies: tuple[str, ...] = ()
    plan_rules: str | None = None
    mocks: str | None = None
    rehearsal: str | None = None
    quotas: str | None = None
    runs_pipelines_in_up: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Flavor:
    """One implementation of a concept on a cloud.

    Attributes:
        cloud: Cloud it deploys to.
        kind: Concept it implements (a key of :data:`BUILTIN_KINDS` or a registered kind).
        name: Flavor name used in stack files (``flavor: self-hosted``).
        implementation: ``"package.module:ClassName"``, imported on first use.
        description: One line shown by ``mlops-infra flavors``.
        options: Pydantic model of the flavor's ``options:`` block, if it takes any, or its
            ``"package.module:ClassName"`` path, imported on first use (see
            :attr:`options_model`) so that declaring a flavor builds no model.
        default: Used when a spec names no flavor.
        requires: Python packages the implementation imports (checked before importing).
        extra: The ``mlops-infra[...]`` extra that installs ``requires``.
    """

    cloud: str
    kind: str
    name: str
    implementation: str
    description: str
    options: type[BaseModel] | str | None = None
    default: bool = False
    requires: tuple[str, ...] = ()
    extra: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(cloud, kind, name)``."""
        return (self.cloud, self.kind, self.name)

    @property
    def label(self) -> str:
        """``cloud/kind/name``, for messages."""
        return "/".join(self.key)

    @property
    def options_model(self) -> type[BaseModel] | None:
        """The model of the ``options:`` block (``options`` imported once if a path).

        Raises:
            RegistryError: the path cannot be imported or names no pydantic model class.
        """
        if not isinstance(self.options, str):
            return self.options
        with _options_lock:
            model = _options_models.get(self.options)
            if model is None:
                found = _import(self.options, f"flavor {self.label}: options")
                if not (isinstance(found, type) and issubclass(found, BaseModel)):
                    raise RegistryError(_options_not_a_model(self))
                model = _options_models[self.options] = found
            return model


_options_models: dict[str, type[BaseModel]] = {}
_options_lock = threading.Lock()


def _options_not_a_model(flavor: Flavor) -> str:
    return f"flavor {flavor.label}: options must be a pydantic model class"


@dataclass
class FlavorRegistry:
    """Clouds, concept kinds and flavors, with lazy loading of implementations.

    Args:
        load_entry_points: Discover registrations in the ``mlops_infra.backends``
            entry-point group on first lookup (turn off for isolated tests).
    """

    load_entry_points: bool = True
    _kinds: dict[str, str] = field(default_factory=lambda: dict(BUILTIN_KINDS))
    _clouds: dict[str, tuple[CloudInfo, str]] = field(
        default_factory=dict[str, tuple[CloudInfo, str]]
    )
    _flavors: dict[tuple[str, str, str], tuple[Flavor, str]] = field(
        default_factory=dict[tuple[str, str, str], tuple[Flavor, str]]
    )
    _loaded: dict[str, type] = field(default_factory=dict[str, type])
    _resolved: dict[str, object] = field(default_factory=dict[str, object])
    _source: str = "python"
    _entry_points_loaded: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- registration -------------------------------------------------------------------

    def register_kind(self, name: str, backend: str) -> None:
        """Declares a concept kind whose implementations subclass ``backend`` (``module:Class``)."""
        _check_key("kind", name)
        if not _IMPL_RE.fullmatch(backend):
            msg = f"kind {name!r}: backend {backend!r} is not 'package.module:ClassName'"
            raise RegistryError(msg)
        if name in self._kinds:
            msg = f"kind {name!r} is already registered"
            raise RegistryError(msg)
        self._kinds[name] = backend

    def register_cloud(self, cloud: CloudInfo) -> None:
        """Declares a cloud; rejects a second declaration of the same name."""
        if not isinstance(cloud, CloudInfo):  # pyright: ignore[reportUnnecessaryIsInstance]
            msg = f"register_cloud expects a CloudInfo; got {type(cloud).__name__}"
            raise RegistryError(msg)
        _check_key("cloud", cloud.name)
        if not isinstance(cloud.gpus, GpuOffers):  # pyright: ignore[reportUnnecessaryIsInstance]
            msg = f"cloud {cloud.name!r}: gpus must be a GpuOffers"
            raise RegistryError(msg)
        for index, path in enumerate(cloud.policies):
            _check_path(f"cloud {cloud.name!r}: policies[{index}]", path)
        for attribute in ("plan_rules", "mocks", "rehearsal", "quotas"):
            path = getattr(cloud, attribute)
            if path is not None:
                _check_path(f"cloud {cloud.name!r}: {attribute}", path)
        if cloud.name in self._clouds:
            _, first = self._clouds[cloud.name]
            msg = f"cloud {cloud.name!r} is registered twice: by {first!r} and by {self._source!r}"
            raise RegistryError(msg)
        self._clouds[cloud.name] = (cloud, self._source)

    def register_flavor(self, flavor: Flavor) -> None:
        """Declares a flavor; checks its fields and rejects duplicates and second defaults."""
        if not isinstance(flavor, Flavor):  # pyright: ignore[reportUnnecessaryIsInstance]
            msg = f"register_flavor expects a Flavor; got {type(flavor).__name__}"
            raise RegistryError(msg)
        _check_key("cloud", flavor.cloud)
        _check_key("flavor", flavor.name)
        if flavor.kind not in self._kinds:
            msg = (
                f"flavor {flavor.label}: unknown kind {flavor.kind!r}; "
                f"known: {', '.join(sorted(self._kinds))}"
            )
            raise RegistryError(msg)
        if not isinstance(flavor.implementation, str) or not _IMPL_RE.fullmatch(  # pyright: ignore[reportUnnecessaryIsInstance]
            flavor.implementation
        ):
            msg = (
                f"flavor {flavor.label}: implementation {flavor.implementation!r} is not "
                "'package.module:ClassName'"
            )
            raise RegistryError(msg)
        if isinstance(flavor.options, str):
            _check_path(f"flavor {flavor.label}: options", flavor.options)
        elif flavor.options is not None and not (
            isinstance(flavor.options, type) and issubclass(flavor.options, BaseModel)  # pyright: ignore[reportUnnecessaryIsInstance]
        ):
            raise RegistryError(_options_not_a_model(flavor))
        if flavor.key in self._flavors:
            _, first = self._flavors[flavor.key]
            msg = f"flavor {flavor.label} is registered twice: by {first!r} and by {self._source!r}"
            raise RegistryError(msg)
        if flavor.default:
            for other, source in self._flavors.values():
                if other.default and (other.cloud, other.kind) == (flavor.cloud, flavor.kind):
                    msg = (
                        f"flavor {flavor.label} and {other.label} (from {source!r}) are both "
                        f"marked default for {flavor.cloud}/{flavor.kind}"
                    )
                    raise RegistryError(msg)
        self._flavors[flavor.key] = (flavor, self._source)

    @contextmanager
    def source(self, name: str) -> Generator[None]:
        """Attributes registrations made inside the block to ``name`` (for error messages)."""
        previous, self._source = self._source, name
        try:
            yield
        finally:
            self._source = previous

    def load_plugins(self) -> None:
        """Runs every ``mlops_infra.backends`` entry point once.

        The registry counts as loaded only when every plugin has run: a plugin that fails
        fails this call, and the next lookup tries again (and fails the same way) instead of
        going on with a cloud silently missing.
        """
        with self._lock:
            if self._entry_points_loaded:
                return
            for entry_point in sorted(
                importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
            ):
                if any(source == entry_point.name for _, source in self._clouds.values()) or any(
                    source == entry_point.name for _, source in self._flavors.values()
                ):
                    continue  # registered by an earlier, failed attempt
                try:
                    register = entry_point.load()
                except Exception as error:
                    msg = (
                        f"backend plugin {entry_point.name!r} ({entry_point.value}) "
                        f"cannot be loaded: {type(error).__name__}: {error}"
                    )
                    raise RegistryError(msg) from error
                self.install(entry_point.name, register)
            self._entry_points_loaded = True

    def install(self, source: str, register: object) -> None:
        """Calls a plugin's ``register(registry)`` function, attributing what it registers."""
        if not callable(register):
            msg = (
                f"entry point {source!r} must name a function register(registry); got {register!r}"
            )
            raise RegistryError(msg)
        plugin: Callable[[FlavorRegistry], object] = register  # pyright: ignore[reportAssignmentType]
        with self.source(source):
            try:
                plugin(self)
            except BaseException:
                # All or nothing: drop what the failing plugin registered before it failed.
                self._clouds = {k: v for k, v in self._clouds.items() if v[1] != source}
                self._flavors = {k: v for k, v in self._flavors.items() if v[1] != source}
                raise

    # -- lookup -------------------------------------------------------------------------

    def _ready(self) -> None:
        if self.load_entry_points:
            with self._lock:
                if not self._entry_points_loaded:
                    self.load_plugins()

    def clouds(self) -> list[str]:
        """Returns the registered cloud names, sorted."""
        self._ready()
        return sorted(self._clouds)

    def kinds(self) -> list[str]:
        """Returns the known concept kinds, sorted."""
        return sorted(self._kinds)

    def cloud(self, name: str) -> CloudInfo:
        """Returns a cloud; raises :class:`RegistryError` listing the known ones."""
        self._ready()
        if name not in self._clouds:
            msg = f"{name!r} is not a known cloud; known: {', '.join(self.clouds()) or 'none'}"
            raise RegistryError(msg)
        return self._clouds[name][0]

    def flavors(self, cloud: str | None = None, kind: str | None = None) -> list[Flavor]:
        """Returns the flavors matching ``cloud`` and ``kind``, sorted by key."""
        self._ready()
        return sorted(
            (
                flavor
                for flavor, _ in self._flavors.values()
                if (cloud is None or flavor.cloud == cloud)
                and (kind is None or flavor.kind == kind)
            ),
            key=lambda f: f.key,
        )

    def flavor(self, cloud: str, kind: str, name: str | None = None) -> Flavor:
        """Returns the flavor ``name`` (the default one when ``None``) of ``kind`` on ``cloud``."""
        self.cloud(cloud)
        if kind not in self._kinds:
            msg = f"{kind!r} is not a known kind; known: {', '.join(self.kinds())}"
            raise RegistryError(msg)
        candidates = self.flavors(cloud, kind)
        if not candidates:
            msg = f"no {kind} implementation is registered for cloud {cloud!r}"
            raise RegistryError(msg)
        if name is None:
            defaults = [f for f in candidates if f.default] or (
                candidates if len(candidates) == 1 else []
            )
            if not defaults:
                msg = (
                    f"{cloud} has no default {kind} flavor; choose one of: "
                    f"{', '.join(f.name for f in candidates)}"
                )
                raise RegistryError(msg)
            return defaults[0]
        for candidate in candidates:
            if candidate.name == name:
                return candidate
        msg = (
            f"{name!r} is not a {kind} flavor on {cloud}; "
            f"available: {', '.join(f.name for f in candidates)}"
        )
        raise RegistryError(msg)

    def descriptors(self) -> list[CloudInfo]:
        """Returns every registered cloud's descriptor, sorted by name."""
        return [self.cloud(name) for name in self.clouds()]

    def resolve(self, path: str, what: str) -> object:
        """Imports (once) and returns the object at ``path`` (``package.module:attribute``).

        Args:
            path: What a :class:`CloudInfo` points at.
            what: Whose path it is, for the error message (``"cloud 'aws': plan_rules"``).

        Raises:
            RegistryError: the module cannot be imported or lacks the attribute.
        """
        with self._lock:
            if path not in self._resolved:
                self._resolved[path] = _import(path, what)
            return self._resolved[path]

    def load(self, flavor: Flavor) -> type:
        """Imports and returns the implementation class of ``flavor``.

        Raises:
            MissingExtraError: a required package is missing (the message has the pip command).
            RegistryError: the implementation cannot be imported or does not subclass
                the kind's backend base class.
        """
        with self._lock:
            if flavor.implementation in self._loaded:
                return self._loaded[flavor.implementation]
            for module in flavor.requires:
                if importlib.util.find_spec(module) is None:
                    raise MissingExtraError(
                        f"flavor {flavor.label}", module, flavor.extra or flavor.cloud
                    )
            implementation = _import(flavor.implementation, f"flavor {flavor.label}")
            # Its module imported the cloud SDK's subpackages it uses, not loaded yet: from
            # here on they import only the modules of the names looked up on them.
            resolve_sdk_names_on_demand()
            base = _import(self._kinds[flavor.kind], f"kind {flavor.kind}")
            if not (
                isinstance(implementation, type)
                and isinstance(base, type)
                and issubclass(implementation, base)
            ):
                msg = (
                    f"flavor {flavor.label}: {flavor.implementation} must be a class "
                    f"subclassing {self._kinds[flavor.kind]}"
                )
                raise RegistryError(msg)
            self._loaded[flavor.implementation] = implementation
            return implementation


def _import(path: str, what: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        msg = f"{what}: cannot import {module_name!r} ({error})"
        raise RegistryError(msg) from error
    try:
        return getattr(module, attribute)
    except AttributeError:
        msg = f"{what}: module {module_name!r} has no attribute {attribute!r}"
        raise RegistryError(msg) from None


Registry = FlavorRegistry
"""Deprecated name of :class:`FlavorRegistry` (plugins written ``register(registry: Registry)``)."""

_default: FlavorRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> FlavorRegistry:
    """Returns the process-wide registry, filled from the installed entry points."""
    global _default  # noqa: PLW0603 - one registry per process, created on first use
    with _default_lock:
        if _default is None:
            _default = FlavorRegistry()
        return _default
