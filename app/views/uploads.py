"""Upload fields that keep Chinese file names (FAB's secure_filename drops them, stack notes §7)."""
import os
import os.path as op
import re

from flask_appbuilder.filemanager import FileManager
from flask_appbuilder.upload import FileUploadField


class UnicodeFileManager(FileManager):
    def save_file(self, data, filename):
        filename = re.sub(r'[\x00-\x1f\\/:*?"<>|]+', "_", op.basename(filename)).lstrip(".") or "file"
        path = self.get_path(filename)
        os.makedirs(op.dirname(path), self.permission, exist_ok=True)
        data.save(path)
        return filename


class UnicodeFileUploadField(FileUploadField):
    # FileManager() needs an app context, so it is built when the form is bound.
    def __init__(self, label=None, validators=None, filemanager=None, **kwargs):
        super().__init__(label, validators, filemanager=filemanager or UnicodeFileManager(), **kwargs)
