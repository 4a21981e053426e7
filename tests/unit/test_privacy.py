from yidi.kernel.privacy import mask_id_number


def test_a_valid_id_number_keeps_its_region_and_last_four() -> None:
    assert mask_id_number("430421195001010013") == "430421********0013"


def test_anything_else_keeps_only_its_last_four() -> None:
    assert mask_id_number("PSN000000001") == "********0001"
    assert mask_id_number("123") == "123"
