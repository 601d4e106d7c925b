"""Protocol tests: Keysight N7734A/N7731C-style 1xN optical switch (8163B "Signal Routing" commands)."""

import pytest

from instruments.keysight.n773x import N7731C, N7734A, OpticalSwitch
from instruments.scpi.protocol import expected_protocol
from optics.errors import GarbledReply, InvalidParameter, ScpiError

OK = '+0,"No error"'


def test_route_query_and_configuration():
    pairs = [
        (":ROUT1:CHAN1:CONF?", "A,A;1,8"),
        (":ROUT1:CHAN1 A,5", None), (":SYST:ERR?", OK),
        (":ROUT1:CHAN1?", "A,5"),
        (":ROUT1:CHAN2:CONF?", "A,A;1,4"),
        (":ROUT1:CHAN2 A,4", None), (":SYST:ERR?", OK),
        (":ROUT1:CHAN2?", "A,4"),
    ]
    with expected_protocol(N7734A, pairs) as sw:
        assert sw.output_count(1) == 8
        sw.route(5, channel=1)
        assert sw.routed_output(1) == 5
        sw.route(4, channel=2)
        assert sw.routed_output(channel=2) == 4


def test_select_routes_every_lane_channel_and_out_of_range_is_refused_before_sending():
    pairs = [
        (":ROUT2:CHAN1:CONF?", "A,A;1,8"), (":ROUT2:CHAN1 A,3", None), (":SYST:ERR?", OK),
        (":ROUT2:CHAN3:CONF?", "A,A;1,8"), (":ROUT2:CHAN3 A,3", None), (":SYST:ERR?", OK),
        (":ROUT2:CHAN1 A,1", None), (":SYST:ERR?", OK),
        (":ROUT2:CHAN3 A,1", None), (":SYST:ERR?", OK),
    ]
    with expected_protocol(N7731C, pairs, slot=2, lane_channels=(1, 3)) as sw:
        sw.select(2)
        assert sw.position == 2
        sw.select(0)
        with pytest.raises(InvalidParameter, match=r"output = 9 not in 1\.\.8"):
            sw.route(9)                       # nothing sent: the pair list has no such command
        with pytest.raises(InvalidParameter, match="lane"):
            sw.select(-1)
        sw.shutdown()
        assert sw.position is None


def test_scpi_error_after_a_route_is_raised():
    pairs = [(":ROUT1:CHAN1:CONF?", "A,A;1,8"), (":ROUT1:CHAN1 A,8", None),
             (":SYST:ERR?", '-222,"Data out of range;output 8: the module in the socket has 2 lane(s)"'),
             (":SYST:ERR?", OK)]
    with expected_protocol(OpticalSwitch, pairs) as sw, pytest.raises(ScpiError) as info:
        sw.route(8)
    assert info.value.code == -222


@pytest.mark.parametrize("reply", ["A;1,8", "A,A;1,x", "A,A;0,8"])
def test_garbled_configuration(reply):
    with expected_protocol(OpticalSwitch, [(":ROUT1:CHAN1:CONF?", reply)]) as sw, pytest.raises(GarbledReply):
        sw.output_count()


def test_garbled_route_and_identity():
    pairs = [(":ROUT1:CHAN1?", "B,2"), ("*IDN?", "Keysight Technologies,N7734A,MY123,1.2")]
    with expected_protocol(OpticalSwitch, pairs) as sw:
        with pytest.raises(GarbledReply):
            sw.routed_output()
        assert "N7734A" in sw.identity


@pytest.mark.parametrize("kwargs", [{"slot": 0}, {"slot": True}, {"lane_channels": ()}, {"lane_channels": (0,)}])
def test_bad_construction(kwargs):
    with pytest.raises(InvalidParameter), expected_protocol(OpticalSwitch, [], **kwargs):
        pass
