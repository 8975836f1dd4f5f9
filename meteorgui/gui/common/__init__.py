"""What several GUI features share: the bridge, background tasks, table models, thumbnails."""
