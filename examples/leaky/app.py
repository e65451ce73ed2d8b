import os

print("listening on", os.environ.get("PORT", "8080"))
