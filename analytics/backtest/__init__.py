"""The backtesting engine: pure numpy and numba, no models, no tasks (analytics' services and tasks
build on it). Start at `engine.run_backtest`; strategies in `strategies/`, fills in `execution.py`."""
