from blog.slugs import slugify


def test_words_are_joined_by_dashes():
    assert slugify("Release notes for 2024") == "release-notes-for-2024"


def test_accents_and_punctuation():
    assert slugify("  Héllo, World! ") == "hello-world"


def test_nothing_left():
    assert slugify("!!!") == ""
