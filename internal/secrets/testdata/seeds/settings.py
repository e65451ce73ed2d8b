import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DATABASES = {"default": {"PASSWORD": os.getenv("DB_PASSWORD"), "HOST": "db"}}
password = request.form["password"]
if token == expected_token:
    pass
CSRF_COOKIE_NAME = "csrftoken"
