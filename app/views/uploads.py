"""Back-office upload fields: the same content check and naming as the public forms."""
from flask_appbuilder.upload import BS3FileUploadFieldWidget, FileUploadField
from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms import ValidationError
from wtforms.widgets import html_params

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


class LabelledFileUploadWidget(BS3FileUploadFieldWidget):
    """FAB's upload widget, said in the reader's language and readable by a screen reader: the
    stored file's name (read only) and the delete box are named after the field; FAB wrote
    "Delete" in English next to a box and a text box without labels."""

    def __call__(self, field, **kwargs):
        if not field.data:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        label = escape(field.label.text)
        marker = f"_{field.name}-delete"
        return Markup(
            f'<div><input {html_params(type="text", value=field.data, readonly=True)}'
            f' aria-label="{label}">'
            f' <label class="checkbox-inline"><input type="checkbox" name="{marker}">'
            f" {escape(_('Delete'))}</label></div>"
            '<div class="input-group"><span class="input-group-addon">'
            '<i class="fa fa-upload"></i></span>'
            f'<input class="form-control" {html_params(type="file", **kwargs)}/></div>')


class UnicodeFileUploadField(FileUploadField):
    widget = LabelledFileUploadWidget()

    def __init__(self, label=None, validators=None, filemanager=None, **kwargs):
        super().__init__(label, validators, filemanager=filemanager or _StoreThroughUploads(),
                         **kwargs)

    def pre_validate(self, form):
        if self.data and getattr(self.data, "filename", ""):
            try:
                check_upload(self.data)
            except UploadRejected as err:
                raise ValidationError(str(err)) from None
