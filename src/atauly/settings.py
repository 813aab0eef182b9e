"""One settings object for the whole project, read from ``ATAULY_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Project configuration. Defaults make ``make demo`` work on local files."""

    model_config = SettingsConfigDict(env_prefix="ATAULY_", extra="ignore")

    home: Path = Field(default=Path("./var"), description="Data directory: registries, results, reports.")
    lang: str = Field(default="ru", description="Default locale for user-facing text: ru, kk or en.")

    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, description="Worker processes/threads for batch jobs."
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the casework service's database; unset: a SQLite file under home.",
    )
    service_model: str = Field(
        default="asp-demo", description="Model (name, alias or NAME@vN) the casework service recommends with."
    )
    service_engine_process: bool = Field(
        default=True,
        description="Compute the law and the model for the casework service in a child process (keeps their "
        "CPU work off the threads that answer requests); false: in a thread of the server's process.",
    )
    session_hours: float = Field(default=8.0, description="Lifetime of a login session or API token, hours.")

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'atauly.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def results_dir(self) -> Path:
        return self.home / "results"

    @property
    def sample_registry_dir(self) -> Path:
        return self.home / "registry" / "sample"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
