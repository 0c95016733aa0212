"""Back-office upload fields: the same content check and naming as the public forms."""
from flask_appbuilder.upload import FileUploadField
from wtforms import ValidationError

from app.core.uploads import UploadRejected, check_upload, store_upload


class _StoreThroughUploads:
    """FAB's FileManager interface, backed by app/core/uploads.py (keeps Chinese file names)."""

    def is_file_allowed(self, filename):
        return True  # decided by content in pre_validate

    def generate_name(self, obj, file_data):
        return file_data.filename

    def save_file(self, data, filename):
        return store_upload(data)

    def delete_file(self, filename):
        # Replaced proof documents stay on disk: the edit may still fail to commit, and a
        # government record keeps what was once submitted.
        pass


class UnicodeFileUploadField(FileUploadField):
    def __init__(self, label=None, validators=None, filemanager=None, **kwargs):
        super().__init__(label, validators, filemanager=filemanager or _StoreThroughUploads(),
                         **kwargs)

    def pre_validate(self, form):
        if self.data and getattr(self.data, "filename", ""):
            try:
                check_upload(self.data)
            except UploadRejected as err:
                raise ValidationError(str(err)) from None
