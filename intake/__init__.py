"""Safe image intake: images members give, by URL or as uploaded files, fetched and decoded
under limits (allowed hosts, public addresses only, size, time and pixel caps) and handed on
as plain RGB pictures without their metadata.

It imports only ``core``, httpx/httpcore, Pillow and the standard library; never Discord.
"""
