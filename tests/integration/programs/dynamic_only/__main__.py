"""Integration-test program: a component that parents two file-writing dynamic resources.

- `<name>-greeting`: its `content` changes in place (`update`).
- `<name>-data`: a change of `filename` or `directory` forces a `replace` (see `FileProvider.diff`).
"""

from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)


class FileProvider(ResourceProvider):
    """Writes one text file; `read` reports what is on disk, so refresh sees drift."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        from pathlib import Path

        path = Path(props["directory"]) / props["filename"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(props["content"], encoding="utf-8")
        return CreateResult(id_=str(path), outs={**props, "path": str(path)})

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("directory", "filename") if _olds.get(key) != _news.get(key)]
        changed = bool(replaces) or _olds.get("content") != _news.get("content")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        from pathlib import Path

        Path(_id).write_text(_news["content"], encoding="utf-8")
        return UpdateResult(outs={**_news, "path": _id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from pathlib import Path

        path = Path(id_)
        if not path.exists():
            return ReadResult(id_="", outs={})
        return ReadResult(id_=id_, outs={**props, "content": path.read_text(encoding="utf-8")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        from pathlib import Path

        Path(_id).unlink(missing_ok=True)


class ManagedFile(Resource):
    """A text file managed by `FileProvider`."""

    path: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        directory: pulumi.Input[str],
        filename: pulumi.Input[str],
        content: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            FileProvider(),
            name,
            {"directory": directory, "filename": filename, "content": content, "path": None},
            opts,
        )


class FileBundle(pulumi.ComponentResource):
    """Two files under one directory, parented to the component."""

    def __init__(
        self,
        name: str,
        directory: str,
        greeting: str,
        data_name: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlopstest:index:FileBundle", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.greeting = ManagedFile(
            f"{name}-greeting", directory, "greeting.txt", greeting, opts=child
        )
        self.data = ManagedFile(f"{name}-data", directory, data_name, "data\n", opts=child)
        self.register_outputs({"greeting": self.greeting.path, "data": self.data.path})


config = pulumi.Config()
bundle = FileBundle(
    "bundle",
    directory=config.require("directory"),
    greeting=config.get("greeting") or "hello",
    data_name=config.get("dataName") or "data-v1.txt",
)
pulumi.export("greetingPath", bundle.greeting.path)
pulumi.export("dataPath", bundle.data.path)
