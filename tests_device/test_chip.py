"""+USECCHIP on the rig: the module's immutable chip ID through Module.chip_id().

On the virtual rig the host compares the ID printed here (`HOST chip-id`)
with the one the simulator holds (ChipSide in tests_host/test_device_suite.py).
"""


import rig


def test_chip_id_is_a_printable_token_read_the_same_twice():
    m = rig.module()
    first = m.chip_id()
    assert isinstance(first, str) and first
    for ch in first:
        assert " " < ch <= "~" and ch not in '",', first
    assert m.chip_id() == first
    print("HOST chip-id %s" % first)


def test_chip_id_is_immutable_across_a_power_cycle():
    m = rig.module()
    before = m.chip_id()
    rig.power_cycle(m)
    assert m.chip_id() == before


def test_chip_id_with_numeric_and_plain_result_codes():
    m = rig.module()
    want = m.chip_id()
    try:
        for cmee in (1, 0):
            m.at.command("+CMEE=%d" % cmee)
            assert m.chip_id() == want
    finally:
        m.at.command("+CMEE=2")

