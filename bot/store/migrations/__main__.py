import sys

from bot.store.schema import new_revision

if len(sys.argv) != 2:
    sys.exit('usage: python -m bot.store.migrations "what changed"')
print(new_revision(sys.argv[1]))
