//! A node being imported: its display name, operand names, attribute accessors and error builders.

use super::error::ImportError;
use super::proto::attribute_proto::AttributeType;
use super::proto::{AttributeProto, NodeProto};

/// Borrowed view of one ONNX node with helpers that attach the node to errors.
#[derive(Debug)]
pub(crate) struct NodeCtx<'a> {
    /// The node itself.
    pub proto: &'a NodeProto,
    /// The node name, or `op_type#index` when unnamed.
    pub name: String,
}

impl<'a> NodeCtx<'a> {
    /// Wraps node number `index` of the graph.
    pub fn new(proto: &'a NodeProto, index: usize) -> Self {
        let name = if proto.name.is_empty() {
            format!("{}#{index}", proto.op_type)
        } else {
            proto.name.clone()
        };
        Self { proto, name }
    }

    /// The op type.
    pub fn op(&self) -> &str {
        &self.proto.op_type
    }

    /// Name of input `k`, or `None` when absent or empty (an omitted optional input).
    pub fn input_name(&self, k: usize) -> Option<&'a str> {
        self.proto
            .input
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Name of the first output.
    pub fn output_name(&self) -> Result<&'a str, ImportError> {
        self.proto
            .output
            .first()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.bad_node("has no output"))
    }

    /// Attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.proto.attribute.iter().find(|a| a.name == name)
    }

    /// Attribute `name` checked to be of type `want` (an unset type is accepted).
    fn typed_attr(
        &self,
        name: &str,
        want: AttributeType,
    ) -> Result<Option<&'a AttributeProto>, ImportError> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        let got = AttributeType::try_from(a.r#type).unwrap_or(AttributeType::Undefined);
        if got != want && got != AttributeType::Undefined {
            let reason = format!(
                "has type {}, expected {}",
                got.as_str_name(),
                want.as_str_name()
            );
            return Err(self.bad_attr(name, reason));
        }
        Ok(Some(a))
    }

    /// Integer attribute with a default.
    pub fn attr_int(&self, name: &str, default: i64) -> Result<i64, ImportError> {
        Ok(self
            .typed_attr(name, AttributeType::Int)?
            .map_or(default, |a| a.i))
    }

    /// Float attribute with a default.
    pub fn attr_float(&self, name: &str, default: f32) -> Result<f32, ImportError> {
        Ok(self
            .typed_attr(name, AttributeType::Float)?
            .map_or(default, |a| a.f))
    }

    /// Integer-list attribute, if present.
    pub fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>, ImportError> {
        Ok(self
            .typed_attr(name, AttributeType::Ints)?
            .map(|a| a.ints.clone()))
    }

    /// Float-list attribute, if present.
    pub fn attr_floats(&self, name: &str) -> Result<Option<Vec<f32>>, ImportError> {
        Ok(self
            .typed_attr(name, AttributeType::Floats)?
            .map(|a| a.floats.clone()))
    }

    /// String attribute (UTF-8), if present.
    pub fn attr_string(&self, name: &str) -> Result<Option<String>, ImportError> {
        match self.typed_attr(name, AttributeType::String)? {
            None => Ok(None),
            Some(a) => String::from_utf8(a.s.clone())
                .map(Some)
                .map_err(|_| self.bad_attr(name, "is not valid UTF-8")),
        }
    }

    /// String-list attribute (each UTF-8), if present.
    pub fn attr_strings(&self, name: &str) -> Result<Option<Vec<String>>, ImportError> {
        let Some(a) = self.typed_attr(name, AttributeType::Strings)? else {
            return Ok(None);
        };
        a.strings
            .iter()
            .map(|s| {
                String::from_utf8(s.clone()).map_err(|_| self.bad_attr(name, "is not valid UTF-8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Tensor attribute, if present.
    pub fn attr_tensor(
        &self,
        name: &str,
    ) -> Result<Option<&'a super::proto::TensorProto>, ImportError> {
        match self.typed_attr(name, AttributeType::Tensor)? {
            None => Ok(None),
            Some(a) => {
                a.t.as_ref()
                    .map(Some)
                    .ok_or_else(|| self.bad_attr(name, "holds no tensor"))
            }
        }
    }

    /// A [`ImportError::BadAttribute`] for this node.
    pub fn bad_attr(&self, attr: &str, reason: impl Into<String>) -> ImportError {
        ImportError::BadAttribute {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            attr: attr.to_string(),
            reason: reason.into(),
        }
    }

    /// A [`ImportError::ShapeMismatch`] for this node.
    pub fn shape_err(&self, detail: impl Into<String>) -> ImportError {
        ImportError::ShapeMismatch {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            detail: detail.into(),
        }
    }

    /// A [`ImportError::UnsupportedUse`] for this node.
    pub fn unsupported(&self, reason: impl Into<String>) -> ImportError {
        ImportError::UnsupportedUse {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// A [`ImportError::BadNode`] for this node.
    pub fn bad_node(&self, reason: impl Into<String>) -> ImportError {
        ImportError::BadNode {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// A [`ImportError::NotConstant`] for input `name` of this node.
    pub fn not_constant(&self, name: &str) -> ImportError {
        ImportError::NotConstant {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            name: name.to_string(),
        }
    }

    /// A [`ImportError::MissingInitializer`] for input `name` of this node.
    pub fn missing(&self, name: &str) -> ImportError {
        ImportError::MissingInitializer {
            op_type: self.op().to_string(),
            node: self.name.clone(),
            name: name.to_string(),
        }
    }
}
