"""Publishing per channel: the working copy goes through review to the channel's publications.

``source`` decides what a request reads; ``states``, ``gates`` and ``service`` move products
through the workflow; ``publications`` writes the snapshots storefronts read; ``scheduler``
fires scheduled publications; ``preview`` signs preview tokens.
"""
