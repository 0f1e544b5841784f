"""Documents read with their BSON recorded are the documents ``find`` answers."""

from __future__ import annotations

from resolvers.raw_documents import RawDocuments, find_documents
from resolvers.services import Services


async def test_recorded_documents_are_what_find_answers(demo: Services) -> None:
    products = demo.catalog.products
    raws = RawDocuments(recording=True)
    query = {"status": "published"}
    recorded = await find_documents(products, query, {"sku": 1, "media": 1}, raws, batch_size=500)
    assert recorded == await products.find(query, {"sku": 1, "media": 1}).to_list()
    assert len(raws) == len(recorded) > 0
    assert all(raws.of(document) is not None for document in recorded)
    # A copy is another document: it was not decoded from those bytes.
    assert raws.of(dict(recorded[0])) is None


async def test_nothing_is_recorded_unless_recording(demo: Services) -> None:
    raws = RawDocuments()
    found = await find_documents(demo.catalog.products, {}, {"sku": 1}, raws, batch_size=500)
    assert found
    assert len(raws) == 0
