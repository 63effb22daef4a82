"""Each node reads its device and precision from its own environment variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from client_node.core.config import ClientSettings
from server_node.core.config import ServerSettings
from shared.compute import Precision


def test_nodes_read_device_and_precision_from_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVSYNTH_CLIENT_DEVICE", "cpu")
    monkeypatch.setenv("PRIVSYNTH_CLIENT_PRECISION", "fp32")
    monkeypatch.setenv("PRIVSYNTH_SERVER_PRECISION", "bf16-autocast")
    client, server = ClientSettings(), ServerSettings()
    assert (client.device, client.precision) == ("cpu", Precision.FP32)
    assert (server.device, server.precision) == ("auto", Precision.BF16_AUTOCAST)
    assert client.compute().precision is Precision.FP32


def test_defaults_are_auto_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ClientSettings().device, ClientSettings().precision) == ("auto", Precision.AUTO)
    monkeypatch.setenv("PRIVSYNTH_SERVER_DEVICE", "gpu0")
    with pytest.raises(ValidationError, match="device"):
        ServerSettings()
