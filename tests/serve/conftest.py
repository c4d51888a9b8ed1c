"""The tiny random model, loaded once for the serve tests."""

import pytest

from toolgym import models


@pytest.fixture(scope="session")
def tiny_model():
    """(model, tokenizer) of the tiny random model, private to these tests."""
    return models.load("tiny")
