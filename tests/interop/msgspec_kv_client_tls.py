"""The seed's kv client, unchanged, over TLS: Python's ssl module wraps the
connection the seed opens with asyncio.open_connection.

Usage: python msgspec_kv_client_tls.py HOST PORT CA_FILE
"""

import asyncio
import ssl
import sys

import msgspec_kv_client as seed

context = ssl.create_default_context(cafile=sys.argv[3])
plain_open_connection = asyncio.open_connection


async def open_tls_connection(host, port, **kwargs):
    return await plain_open_connection(host, port, ssl=context, **kwargs)


asyncio.open_connection = open_tls_connection

if __name__ == "__main__":
    asyncio.run(seed.session(sys.argv[1], int(sys.argv[2])))
