"""A small aiohttp-style service: two handlers call libraries that block inside."""

from git import Repo
from PIL import Image


async def thumbnail(request):
    # Pillow opens (and reads) the file on the event loop.
    image = Image.open(request.path)
    image.thumbnail((128, 128))
    return image


async def sync_repo(request):
    # GitPython runs `git pull` as a subprocess and waits for it on the event loop.
    Repo(request.path).remotes.origin.pull()
