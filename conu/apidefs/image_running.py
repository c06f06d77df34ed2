"""Running containers of an image: ``run_via_binary*`` (the engine's command-line client,
or the same options read and passed to the engine) and ``run_via_api``/``create_container``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from conu.apidefs import running
from conu.apidefs.run_builder import RunBuilder
from conu.apidefs.specs import RunSpec
from conu.exceptions import ConuException, UnsupportedOperation

if TYPE_CHECKING:
    from conu.apidefs.container import Container
    from conu.apidefs.engine import Engine
    from conu.apidefs.image import Image

__all__ = ["ImageRunMixin"]


class ImageRunMixin:
    """How containers of an image are run."""

    container_class: ClassVar[type[Container]]
    """The class of containers of this image."""
    run_builder_class: ClassVar[type[RunBuilder]] = RunBuilder
    """The class ``run_via_binary`` builds command lines with."""

    if TYPE_CHECKING:
        engine: Engine | None

        def _engine(self, operation: str) -> Engine: ...

        def get_id(self) -> str: ...

        def _unsupported(self, operation: str) -> UnsupportedOperation: ...

    @staticmethod
    def get_volume_options(volumes: Any) -> list[str]:
        """Turn volume specs (``"/t"``, ``(src, tgt)``, ``(src, tgt, mode)``) into ``-v`` args."""
        from conu.utils.cidfile import volume_options

        return volume_options(volumes)

    def run_via_binary(
        self,
        run_command_instance: Any = None,
        command: list[str] | None = None,
        volumes: Any = None,
        additional_opts: list[str] | None = None,
        **kwargs: Any,
    ) -> Container:
        """Run a container in the background, as ``<client> run -d <options> <image>
        <command>`` does.

        When the engine makes the same container from the options through its API
        (:meth:`~conu.apidefs.engine.Engine.run_options_spec`: on Docker, when every option
        maps exactly; always on an engine without a client) and the builder's command line
        is not customised, the container is created and started through the API, no client
        process. Otherwise the engine's command-line client runs.

        Raises:
            ContainerFailed: the run failed (e.g. the command does not exist: "Container
                exited with an error: 127: ..."; the client's exit status either way).
        """
        builder = running.make_builder(
            self.run_builder_class, run_command_instance, command, additional_opts
        )
        return running.run_detached(cast("Image", self), builder, volumes)

    def run_via_binary_in_foreground(
        self,
        run_command_instance: Any = None,
        command: list[str] | None = None,
        volumes: Any = None,
        additional_opts: list[str] | None = None,
        popen_params: dict[str, Any] | None = None,
        container_name: str | None = None,
    ) -> Container:
        """Run a container with ``<client> run`` kept in the foreground as a Popen.

        Pass ``additional_opts=["-i"]`` and ``popen_params={"stdin": subprocess.PIPE}`` to
        write to its stdin with :meth:`~conu.apidefs.container.Container.write_to_stdin`.
        """
        builder = running.make_builder(
            self.run_builder_class, run_command_instance, command, additional_opts
        )
        return running.run_foreground(
            cast("Image", self), builder, volumes, popen_params, container_name
        )

    def _run_spec(self, container_params: Any) -> RunSpec:
        """Return the :class:`RunSpec` for ``create_container``'s argument."""
        if container_params is None:
            from conu.labels import session_labels

            return RunSpec(image=self.get_id(), labels=session_labels())
        if isinstance(container_params, RunSpec):
            return container_params
        msg = f"container_params must be a RunSpec, not {type(container_params).__name__}"
        raise TypeError(msg)

    def create_container(self, container_params: Any = None) -> Container:
        """Create (not start) a container of this image through the engine's API."""
        spec = self._run_spec(container_params)
        cid = self._engine("create_container").create_container(spec)
        return self.container_class(cast("Image", self), cid, name=spec.name, engine=self.engine)

    def run_via_api(self, container_params: Any = None) -> Container:
        """Create a container through the API and start it in the background."""
        container = self.create_container(container_params)
        try:
            container.start()
        except ConuException:
            container.delete(force=True)
            raise
        return container

    def run_in_pod(self, namespace: str = "default") -> Any:
        """Run the image in a new pod of the Kubernetes cluster of ``$KUBECONFIG`` (conu
        1.0's ``DockerImage.run_in_pod``); return its :class:`~conu.backend.k8s.pod.Pod`.

        The cluster pulls the image by its full name, so a registry it reaches must serve
        it; the container gets the ports of the image's metadata. The pod carries the session
        labels, so the session's cleanup removes it.

        Args:
            namespace: the pod's namespace.

        Raises:
            EngineUnreachable: no cluster answers (or the ``kubernetes`` client is missing).
            EngineError: the cluster refused the pod.
        """
        from conu.backend.k8s.pod import run_image_in_pod

        return run_image_in_pod(self, namespace=namespace)
