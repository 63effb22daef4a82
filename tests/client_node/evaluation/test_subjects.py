from client_node.evaluation.subjects import Subject
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.records import Record


def test_writer_and_answerer_are_asked_in_their_own_formats() -> None:
    tokenizer = make_tiny_tokenizer()
    writer = Subject("w", make_tiny_llama(), tokenizer, GenerationTemplate.for_task("reviews"))
    answerer = Subject("a", make_tiny_llama(), tokenizer, GenerationTemplate.for_answering("reviews"))
    assert writer.is_writer and not answerer.is_writer
    assert writer.answer_prompt("Q?").endswith("### Instruction:\nQ?\n### Response:\n")
    assert "Write a new example" in writer.answer_prompt("Q?")
    assert answerer.answer_prompt("Q?").endswith("<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n")


def test_answers_and_losses_cover_every_record() -> None:
    subject = Subject("a", make_tiny_llama(), make_tiny_tokenizer(), GenerationTemplate.for_answering("x"))
    records = [Record(instruction="Say a.", response="a"), Record(instruction="Say bb.", response="b b")]
    assert len(subject.answers([r.instruction for r in records], max_new_tokens=4, batch_size=1)) == 2
    losses = subject.response_losses(records)
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
