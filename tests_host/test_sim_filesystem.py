"""The module file system: +UDWNFILE, +ULSTFILE, +UDELFILE, +URDFILE and device.fs."""

import pytest

from fixtures_sim import CORE_FAMILIES, final_result, info_lines
from ubxsim import cme
from ubxsim.cme import CmeError
from ubxsim.filesystem import CAPACITY, FileStore


@pytest.fixture
def sim(sim_factory):
    return sim_factory(families=CORE_FAMILIES)


@pytest.fixture
def at1(at):
    """AT client with numeric CME errors."""
    at.send("AT+CMEE=1")
    return at


def download(at, name, data):
    assert at.send_prompt('AT+UDWNFILE="%s",%d' % (name, len(data))).endswith(b">")
    return at.send_data(data)


def test_download_list_size_read_delete(at1):
    assert final_result(download(at1, "ca.pem", b"hello")) == "OK"
    assert final_result(download(at1, "b.bin", b"xy")) == "OK"
    assert info_lines(at1.send("AT+ULSTFILE=")) == ['+ULSTFILE: "b.bin","ca.pem"']
    assert info_lines(at1.send('AT+ULSTFILE=2,"ca.pem"')) == ["+ULSTFILE: 5"]
    assert info_lines(at1.send('AT+URDFILE="ca.pem"')) == ['+URDFILE: "ca.pem",5,"hello"']
    assert final_result(at1.send('AT+UDELFILE="ca.pem"')) == "OK"
    assert info_lines(at1.send("AT+ULSTFILE=")) == ['+ULSTFILE: "b.bin"']


def test_free_space_shrinks_with_files(at1):
    free = int(info_lines(at1.send("AT+ULSTFILE=1"))[0].split(": ")[1])
    assert free == CAPACITY
    download(at1, "f", b"x" * 100)
    assert info_lines(at1.send("AT+ULSTFILE=1")) == ["+ULSTFILE: %d" % (free - 100)]


def test_binary_data_round_trips(at1):
    data = bytes(range(256))
    assert final_result(download(at1, "all.bin", data)) == "OK"
    raw = at1.send('AT+URDFILE="all.bin"')
    assert b'\r\n+URDFILE: "all.bin",256,"' + data + b'"\r\n\r\nOK\r\n' in raw


def test_download_to_an_existing_file_appends(at1):
    download(at1, "log", b"abc")
    download(at1, "log", b"def")
    assert info_lines(at1.send('AT+URDFILE="log"')) == ['+URDFILE: "log",6,"abcdef"']


@pytest.mark.parametrize("command", [
    'AT+URDFILE="missing"', 'AT+UDELFILE="missing"', 'AT+ULSTFILE=2,"missing"'])
def test_missing_file_is_not_found(at1, command):
    assert final_result(at1.send(command)) == "+CME ERROR: %d" % cme.NOT_FOUND


def test_name_length_limit(at1):
    assert final_result(download(at1, "n" * 248, b"1")) == "OK"
    assert final_result(at1.send('AT+UDWNFILE="%s",1' % ("n" * 249))) == \
        "+CME ERROR: %d" % cme.INCORRECT_PARAMETERS


@pytest.mark.parametrize("command", [
    'AT+UDWNFILE="f",0', 'AT+UDWNFILE="",3', "AT+UDWNFILE=f,3", 'AT+UDWNFILE="a\x01b",3',
    'AT+UDWNFILE="f"', 'AT+URDFILE=1', 'AT+ULSTFILE=3', 'AT+UDWNFILE="f",3,"FOAT"'])
def test_bad_parameters_are_rejected_without_prompt(at1, command):
    raw = at1.send(command)
    assert b">" not in raw
    assert final_result(raw).startswith("+CME ERROR: ")


def test_user_tag_is_accepted(at1):
    at1.send_prompt('AT+UDWNFILE="t",2,"USER"')
    assert final_result(at1.send_data(b"ok")) == "OK"
    assert final_result(at1.send('AT+UDELFILE="t","USER"')) == "OK"


def test_download_larger_than_free_space_is_memory_full(at1):
    raw = at1.send('AT+UDWNFILE="big",%d' % (CAPACITY + 1))
    assert final_result(raw) == "+CME ERROR: %d" % cme.MEMORY_FULL


def test_python_api(tmp_path):
    store = FileStore(str(tmp_path))
    with pytest.raises(CmeError) as err:
        store.read("nope")
    assert err.value.code == cme.NOT_FOUND
    store.write("a", b"1")
    store.write("b", b"22")
    store.write("a", b"333")
    assert store.names() == ["a", "b"]
    assert store.read("a") == b"333"
    store.delete("b")
    with pytest.raises(CmeError):
        store.delete("b")
    with pytest.raises(CmeError) as err:
        store.write('q"q', b"")
    assert err.value.code == cme.INCORRECT_PARAMETERS
    # a new store on the same directory sees the same files
    assert FileStore(str(tmp_path)).names() == ["a"]
    assert FileStore(str(tmp_path)).read("a") == b"333"


def test_python_api_in_memory_has_capacity():
    store = FileStore(None, capacity=10)
    store.write("a", b"x" * 10)
    with pytest.raises(CmeError) as err:
        store.write("b", b"y")
    assert err.value.code == cme.MEMORY_FULL
    assert store.names() == ["a"]
