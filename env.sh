export APP_ENV=testing
export TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/shop_test_recon
export TEST_REDIS_URL=redis://127.0.0.1:6379/12
alias t='.venv/bin/python -m pytest -q -p no:cacheprovider'
