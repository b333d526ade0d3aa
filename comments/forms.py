from django import forms


class CommentForm(forms.Form):
    name = forms.CharField(max_length=80)
    email = forms.EmailField(help_text="Never shown publicly.")
    body = forms.CharField(widget=forms.Textarea, max_length=5000)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something before posting.", code="blank")
        return body

    def clean_parent(self) -> int | None:
        return self.cleaned_data.get("parent")

